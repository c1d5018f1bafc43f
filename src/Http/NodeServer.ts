import * as FileSystem from "@effect/platform/FileSystem"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpIncomingMessage from "@effect/platform/HttpIncomingMessage"
import type * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Socket from "@effect/platform/Socket"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Cause, Context, Effect, Exit, FiberRef, FiberSet, GlobalValue, Layer, Option, Runtime, RuntimeFlags, Scope } from "effect"
import * as Http from "node:http"
import type { ListenOptions } from "node:net"
import type { Duplex } from "node:stream"
import { WebSocketServer } from "ws"
import { emptyHookSlots, NodeHooks, type NodeHookSlots } from "./NodeHooks.js"
import { NodeRequest } from "./NodeRequest.js"
import { writeResponse } from "./ResponseWriter.js"
import { withServerSpan } from "./ServerSpan.js"

/** The platform's marks, shared by symbol so its own helpers (`ejectDefaultScopeClose`) keep working. */
const handledSymbol = Symbol.for("@effect/platform/HttpApp/handled")
const ejectedScopes = GlobalValue.globalValue("@effect/platform/HttpApp/ejectedScopes", () => new WeakSet<Scope.Scope>())

/** The request of the running fiber (each request fiber starts with its own). */
const currentRequest = (fiber: { readonly currentContext: Context.Context<never> }) =>
  Context.unsafeGet(fiber.currentContext as Context.Context<HttpServerRequest.HttpServerRequest>, HttpServerRequest.HttpServerRequest)

/** Answers with `response` after the pre-response handlers (the edge's headers), marking the request answered. */
const respond = (fiber: { readonly currentContext: Context.Context<never>; getFiberRef: <A>(ref: FiberRef.FiberRef<A>) => A }, response: HttpServerResponse.HttpServerResponse) => {
  const request = currentRequest(fiber)
  const handler = fiber.getFiberRef(HttpApp.currentPreResponseHandlers)
  if (Option.isNone(handler)) {
    Reflect.set(request, handledSymbol, true)
    return Effect.as(writeResponse(request, response), response)
  }
  return Effect.tap(handler.value(request, response), (final) => {
    Reflect.set(request, handledSymbol, true)
    return writeResponse(request, final)
  })
}

/**
 * `HttpApp.toHandled` for a fiber that starts with its request in its context: the same
 * answer for every outcome (pre-response handlers, error responses, the middleware's own
 * failures, the request span), run uninterruptibly (the app opts in to interruption inside),
 * with a scope of its own closed when the request ends. The platform's version provides the
 * request and extends the scope with two context `locally`s (17 operations each, with their
 * restores): our fiber is made for this request and ends with it, so the scope is added to its
 * context in place and nothing is restored.
 */
const toHandled = <E, R>(app: HttpApp.Default<E, R>, middleware: HttpMiddleware.HttpMiddleware | undefined) => {
  const responded = Effect.withFiberRuntime<HttpServerResponse.HttpServerResponse, unknown, R | HttpServerRequest.HttpServerRequest>((fiber) =>
    Effect.flatMap(app, (response) => respond(fiber, response)))
  const withErrorHandling = Effect.catchAllCause(responded, (cause) =>
    Effect.withFiberRuntime<HttpServerResponse.HttpServerResponse, unknown>((fiber) =>
      Effect.flatMap(HttpServerError.causeResponse(cause), ([response, rest]) =>
        Effect.zipRight(respond(fiber, response), Cause.isEmptyType(rest) ? Effect.succeed(response) : Effect.failCause(rest)))))
  const withMiddleware: Effect.Effect<unknown, unknown, R | HttpServerRequest.HttpServerRequest> = middleware === undefined
    ? withServerSpan(withErrorHandling)
    : Effect.matchCauseEffect(withServerSpan(middleware(withErrorHandling)), {
      onFailure: (cause) =>
        Effect.withFiberRuntime((fiber) => {
          const request = currentRequest(fiber)
          if (handledSymbol in request) return Effect.void
          return Effect.matchCauseEffect(HttpServerError.causeResponse(cause), {
            onFailure: () => writeResponse(request, HttpServerResponse.empty({ status: 500 })),
            onSuccess: ([response]) => writeResponse(request, response)
          })
        }),
      onSuccess: (response) =>
        Effect.withFiberRuntime((fiber) => {
          const request = currentRequest(fiber)
          return handledSymbol in request ? Effect.void : writeResponse(request, response as HttpServerResponse.HttpServerResponse)
        })
    })
  // The fiber is uninterruptible from its start (`forkerFor`), so a plain match closes the
  // scope however the request ends, as `onExit` would.
  const closing = (scope: Scope.CloseableScope, exit: Exit.Exit<unknown, unknown>) =>
    ejectedScopes.has(scope) ? exit : Effect.zipRight(Scope.close(scope, exit), exit)
  return Effect.flatMap(Scope.make(), (scope) =>
    Effect.zipRight(
      FiberRef.update(FiberRef.currentContext, (context) => Context.add(context, Scope.Scope, scope)),
      Effect.matchCauseEffect(withMiddleware, {
        onFailure: (cause) => closing(scope, Exit.failCause(cause)),
        onSuccess: (value) => closing(scope, Exit.succeed(value))
      })
    ))
}

/**
 * Starts a request's fiber with the request already in its context (one copy of the small
 * request context, src/Http/ServerContext.ts), synchronously, from node's event, and
 * uninterruptible (as `HttpApp.toHandled` makes it; the app opts in to interruption inside).
 */
const forkerFor = <R>(runtime: Runtime.Runtime<R>) => {
  const runtimeFlags = RuntimeFlags.disable(runtime.runtimeFlags, RuntimeFlags.Interruption)
  return <A, E>(effect: Effect.Effect<A, E, R | HttpServerRequest.HttpServerRequest>, request: HttpServerRequest.HttpServerRequest) =>
    Runtime.runFork(Runtime.make({
      context: Context.add(runtime.context, HttpServerRequest.HttpServerRequest, request),
      runtimeFlags,
      fiberRefs: runtime.fiberRefs
    }))(effect as Effect.Effect<A, E, R>) // the request is in the context from the start
}

/**
 * An upgrade request's node response, made only when asked for: to answer over HTTP (a refusal)
 * on the socket, which ends with it; or, once ws has taken the socket (`upgraded`), one already
 * ended, so nothing more is written.
 */
export const lazyUpgradeResponse = (nodeRequest: Http.IncomingMessage, socket: Duplex, upgraded: () => boolean) => {
  let response: Http.ServerResponse | undefined
  return (): Http.ServerResponse => {
    if (response === undefined) {
      response = new Http.ServerResponse(nodeRequest)
      if (upgraded()) {
        response.end()
      } else {
        response.assignSocket(socket as import("node:net").Socket)
        response.on("finish", () => socket.end())
      }
    }
    return response
  }
}

const serveOn = (
  server: Http.Server,
  hooks: NodeHookSlots,
  webSockets: Effect.Effect<WebSocketServer>,
  app: HttpApp.Default<unknown>,
  middleware: HttpMiddleware.HttpMiddleware | undefined
) =>
  Effect.gen(function*() {
    const handled = toHandled(app, middleware)
    const fork = forkerFor(yield* Effect.runtime<never>())
    // Upgrade fibers are interrupted when the server stops serving, as the platform's are.
    const upgrades = yield* FiberSet.make()

    const serveFiber = (nodeRequest: Http.IncomingMessage, nodeResponse: Http.ServerResponse) => {
      const fiber = fork(handled, new NodeRequest(nodeRequest, nodeResponse))
      // A client that goes away before its answer interrupts the handler.
      nodeResponse.on("close", () => {
        if (!nodeResponse.writableEnded) fiber.unsafeInterruptAsFork(HttpServerError.clientAbortFiberId)
      })
    }

    const onRequest = (nodeRequest: Http.IncomingMessage, nodeResponse: Http.ServerResponse) => {
      const hook = hooks.request
      if (hook === undefined) return serveFiber(nodeRequest, nodeResponse)
      hook(nodeRequest, nodeResponse, () => serveFiber(nodeRequest, nodeResponse))
    }

    const onUpgrade = (nodeRequest: Http.IncomingMessage, socket: Duplex, head: Buffer) => {
      const hook = hooks.upgrade
      if (hook === undefined) return serveUpgradeFiber(nodeRequest, socket, head)
      hook(nodeRequest, socket, head, () => serveUpgradeFiber(nodeRequest, socket, head))
    }

    const serveUpgradeFiber = (nodeRequest: Http.IncomingMessage, socket: Duplex, head: Buffer) => {
      let upgraded = false
      const nodeResponse = lazyUpgradeResponse(nodeRequest, socket, () => upgraded)
      const upgrade = Socket.fromWebSocket(Effect.flatMap(webSockets, (wss) =>
        Effect.acquireRelease(
          Effect.async<globalThis.WebSocket>((resume) =>
            wss.handleUpgrade(nodeRequest, socket, head, (ws) => {
              upgraded = true
              resume(Effect.succeed(ws as unknown as globalThis.WebSocket))
            })),
          (ws) => Effect.sync(() => ws.close())
        )))
      const fiber = fork(handled, new NodeRequest(nodeRequest, nodeResponse, upgrade))
      FiberSet.unsafeAdd(upgrades, fiber)
      const onClose = () => {
        if (!socket.writableEnded) fiber.unsafeInterruptAsFork(HttpServerError.clientAbortFiberId)
      }
      socket.on("close", onClose)
      // A socket taken over (the media stream) outlives its request fiber: do not hold the fiber.
      fiber.addObserver(() => socket.off("close", onClose))
    }

    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        server.off("request", onRequest)
        server.off("upgrade", onUpgrade)
      }))
    server.on("request", onRequest)
    server.on("upgrade", onUpgrade)
  })

/**
 * `HttpServer.HttpServer` over node:http, as @effect/platform-node's `NodeHttpServer.make`
 * (same listen and close, same WebSocket server for upgrades, same request and response
 * behaviour) with less machinery per request: each request's fiber is started with its
 * request in its context and answered by `toHandled` above (bench/RESULTS.md, "The
 * platform's per-request machinery").
 */
export const make = (evaluate: () => Http.Server, options: ListenOptions, hooks: NodeHookSlots = emptyHookSlots()) =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const server = yield* Effect.acquireRelease(
      Effect.sync(evaluate),
      (server) =>
        Effect.async<void>((resume) => {
          if (!server.listening) return resume(Effect.void)
          server.close((error) => resume(error ? Effect.die(error) : Effect.void))
        })
    )
    yield* Effect.async<void, HttpServerError.ServeError>((resume) => {
      const onError = (cause: Error) => resume(Effect.fail(new HttpServerError.ServeError({ cause })))
      server.on("error", onError)
      server.listen(options, () => {
        server.off("error", onError)
        resume(Effect.void)
      })
    })
    const address = server.address()!
    const webSockets = yield* Effect.cached(Scope.extend(
      Effect.acquireRelease(
        Effect.sync(() => new WebSocketServer({ noServer: true })),
        (wss) => Effect.async<void>((resume) => wss.close(() => resume(Effect.void)))
      ),
      scope
    ))
    return HttpServer.make({
      address: typeof address === "string"
        ? { _tag: "UnixAddress", path: address }
        : { _tag: "TcpAddress", hostname: address.address === "::" ? "0.0.0.0" : address.address, port: address.port },
      serve: (app, middleware) => serveOn(server, hooks, webSockets, app, middleware)
    })
  }).pipe(Effect.provideService(HttpIncomingMessage.MaxBodySize, Option.some(FileSystem.Size(1024 * 1024 * 10))))

/**
 * The server and the platform services a response may need (files, etags, paths), as
 * `NodeHttpServer.layer`, and the server's hook slots (`NodeHooks`).
 */
export const layer = (evaluate: () => Http.Server, options: ListenOptions) =>
  Layer.mergeAll(
    Layer.scopedContext(Effect.suspend(() => {
      const hooks = emptyHookSlots()
      return Effect.map(make(evaluate, options, hooks), (server) => Context.make(HttpServer.HttpServer, server).pipe(Context.add(NodeHooks, hooks)))
    })),
    NodeHttpServer.layerContext
  )

/** `layer` on a random local port with an `HttpClient` pointed at it, as `NodeHttpServer.layerTest`. */
export const layerTest = HttpServer.layerTestClient.pipe(
  Layer.provide(NodeHttpClient.layerWithoutAgent),
  Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: false })),
  Layer.provideMerge(layer(Http.createServer, { port: 0 }))
)
