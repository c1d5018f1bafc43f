import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { TenantAuthentication } from "../Auth/TenantAuthLive.js"
import { Lifecycle } from "../Health/Lifecycle.js"
import type { PreAuth } from "./Bootstrap.js"
import { MediaStreams, textResponse } from "./MediaStreams.js"
import { isWebSocketHandshake } from "./Upgrade.js"

const queryToken = (url: string): string | undefined => {
  const query = url.indexOf("?")
  if (query === -1) return undefined
  const token = new URLSearchParams(url.slice(query + 1)).get("stream_token")
  return token === null || token === "" ? undefined : token
}

const NO_PRE_AUTH: PreAuth = { _tag: "None" }

/**
 * `GET /media-stream`: a credential in the request (the `stream_token` query parameter or
 * a tenant bearer header) is checked before the upgrade and refused with 401; without one
 * the socket must authenticate with its `start` event (see MediaStreams). The one answer
 * for both ways in: HttpApi's route below and the fast path in front of its router
 * (src/Media/HotUpgrade.ts).
 */
export const makeMediaUpgrade = Effect.gen(function*() {
  const streams = yield* MediaStreams
  // What the TenantAuth middleware runs (it reads the header itself), needing only the request.
  const { authenticate } = yield* TenantAuthentication
  const lifecycle = yield* Lifecycle
  const answerNow = makeUpgradeAnswerNow(streams, lifecycle)

  const preAuth = (request: HttpServerRequest.HttpServerRequest) =>
    Effect.gen(function*() {
      const token = queryToken(request.url)
      if (token !== undefined) {
        const claims = yield* streams.redeemQueryToken(token)
        return { _tag: "StreamToken", claims } satisfies PreAuth
      }
      if (request.headers.authorization !== undefined) {
        const tenant = yield* authenticate
        return { _tag: "Tenant", tenantId: tenant.tenantId } satisfies PreAuth
      }
      return { _tag: "None" } satisfies PreAuth
    })

  const refused = (error: Effect.Effect.Error<ReturnType<typeof preAuth>>) => {
    switch (error._tag) {
      case "InvalidStreamToken":
      case "ApiUnauthorized":
        return Effect.succeed(textResponse(401, error.message))
      case "ApiRateLimited":
        return Effect.succeed(textResponse(429, error.message))
      default:
        return Effect.succeed(textResponse(503, error.message))
    }
  }

  return (request: HttpServerRequest.HttpServerRequest) =>
    Effect.suspend(() => {
      const now = answerNow(request)
      return now !== undefined
        ? Effect.succeed(now)
        : preAuth(request).pipe(Effect.flatMap((auth) => streams.accept(request, auth)), Effect.catchAll(refused))
    })
})

/** Twilio's way in: no credential before the upgrade (the token comes with `start`). */
export const withoutCredentials = (request: { readonly url: string; readonly headers: Readonly<Record<string, string | undefined>> }) =>
  request.headers.authorization === undefined && queryToken(request.url) === undefined

/**
 * The upgrade's answer as plain code, where it needs nothing checked before the upgrade: a
 * malformed handshake (400), a replica closed to calls (503) or Twilio's way in (`accept`).
 * Undefined for a credential to check first (`makeMediaUpgrade`'s Effect). Shared by the route,
 * HotUpgrade and the upgrade served off node's own event (src/Media/PlainUpgrade.ts).
 */
export const makeUpgradeAnswerNow = (streams: MediaStreams, lifecycle: Lifecycle) =>
(request: HttpServerRequest.HttpServerRequest): HttpServerResponse.HttpServerResponse | undefined => {
  if (!isWebSocketHandshake(request)) return textResponse(400, "Missing WebSocket upgrade headers")
  // Shutting down: the live calls run on, new ones go to another replica.
  if (lifecycle.closedToCallsNow()) return textResponse(503, "This replica is shutting down")
  return withoutCredentials(request) ? streams.acceptNow(request, NO_PRE_AUTH) : undefined
}

export const MediaHttp = HttpApiBuilder.group(Api, "media", (handlers) =>
  Effect.gen(function*() {
    const streams = yield* MediaStreams
    // Released before the HTTP server, whose close() waits for every upgraded socket.
    yield* Effect.addFinalizer(() => streams.endAll)
    const upgrade = yield* makeMediaUpgrade
    return handlers.handleRaw("handler", ({ request }) => upgrade(request))
  })
)
