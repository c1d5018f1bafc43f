import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Context, Effect } from "effect"
import { answerUnhandled } from "../Http/ErrorBoundary.js"
import { makeMediaUpgrade } from "./Http.js"

const ROUTE = "/media-stream"

/**
 * The media-stream upgrade (`GET /media-stream`) served in front of HttpApi's router, as the
 * incoming-call webhook is (src/Twilio/HotWebhook.ts): every call opens one, right after its
 * webhook, so a burst of calls is a burst of these. It runs the route's own answer
 * (`makeMediaUpgrade`: the handshake check, the shutdown check, the query token or bearer
 * checked before the upgrade, `MediaStreams.accept`); what it skips is the router, the merge
 * of the group's services into the handler's context and the credentials middleware, which
 * only documents them (src/Media/Credentials.ts). Any other path, the trailing-slash
 * spelling included, is still the router's.
 */
export const makeHotUpgrade = Effect.map(makeMediaUpgrade, (upgrade) =>
  <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
    Effect.withFiberRuntime<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest>((fiber) => {
      const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
      if (request.method !== "GET" || !request.url.startsWith(ROUTE)) return app
      if (request.url.length !== ROUTE.length && request.url[ROUTE.length] !== "?") return app
      // Interruptible as under the router; defects get the boundary's envelope, as there.
      return Effect.catchAllCause(Effect.interruptible(upgrade(request)), answerUnhandled(request))
    }))

export const HotUpgradeLive = HttpApiBuilder.middleware(makeHotUpgrade)
