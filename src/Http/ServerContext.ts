import * as Etag from "@effect/platform/Etag"
import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpApp from "@effect/platform/HttpApp"
import type * as HttpRouter from "@effect/platform/HttpRouter"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpPlatform from "@effect/platform/HttpPlatform"
import * as HttpServer from "@effect/platform/HttpServer"
import * as Path from "@effect/platform/Path"
import { Context, Effect, Layer, Scope } from "effect"

/**
 * What a request fiber starts with: the server's scope and the platform services a response
 * may need (files, etags), not the app's ~100 services. The platform forks every request on
 * the context it was served from, and every `provideService`, span and scope of the request
 * copies that context whole (bench/RESULTS.md, "CPU per call during set-up"). The edge and
 * the hot paths (HotWebhook, HotUpgrade, HotReads) resolved their services when they were
 * built and read only the request at run time (their types say so); HttpApi's router gets the
 * app's services back (`RouterContextLive`).
 */
const requestContext = (context: Context.Context<Scope.Scope | HttpRouter.HttpRouter.DefaultServices>) =>
  Context.pick(Scope.Scope, HttpPlatform.HttpPlatform, FileSystem.FileSystem, Path.Path, Etag.Generator)(context)

/**
 * `HttpApiBuilder.serve(middleware)`, with the request fibers started on `requestContext`.
 * Needs `RouterContextLive` among the HttpApi middlewares, innermost.
 */
export const serveWithRequestContext = (middleware: <E, R>(app: HttpApp.Default<E, R>) => HttpApp.Default<E, R>) =>
  Layer.scopedDiscard(Effect.gen(function*() {
    const app = yield* HttpApiBuilder.httpApp
    const server = yield* HttpServer.HttpServer
    // The platform captures the runtime (context included) here, once, for every request.
    yield* Effect.mapInputContext(server.serve(app, middleware<never, HttpRouter.HttpRouter.DefaultServices>), requestContext)
  })).pipe(Layer.provide([HttpApiBuilder.Router.Live, HttpApiBuilder.Middleware.layer]))

/**
 * The innermost HttpApi middleware: a request that reaches the router (not taken by a hot path
 * in front of it) runs on the app's services again, with its own request, scope and span
 * merged over them: one copy per routed request, as the platform's own provide was.
 */
export const RouterContextLive = HttpApiBuilder.middleware(
  Effect.map(Effect.context<never>(), (services) => (app: HttpApp.Default) =>
    Effect.mapInputContext(app, (request: Context.Context<HttpServerRequest.HttpServerRequest>) => Context.merge(services, request)))
)
