import { Cause, Effect, Layer, Option, Runtime } from "effect"
import type * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { AppConfig } from "../Config.js"
import { answerUnhandled } from "../Http/ErrorBoundary.js"
import { EdgeState, finish } from "../Http/EdgeState.js"
import { NodeHooks } from "../Http/NodeHooks.js"
import { NodeRequest } from "../Http/NodeRequest.js"
import { lazyUpgradeResponse } from "../Http/NodeServer.js"
import { makePlainEdge } from "../Http/PlainEdge.js"
import { writeInMemory } from "../Http/ResponseWriter.js"
import { Lifecycle } from "../Health/Lifecycle.js"
import { makeUpgradeAnswerNow, withoutCredentials } from "./Http.js"
import { MediaStreams } from "./MediaStreams.js"

const ROUTE = "/media-stream"

/**
 * The media-stream upgrade served straight off node's `upgrade` event when it needs nothing
 * checked before the upgrade (Twilio's way in: the token comes with `start`): no request
 * fiber, no request scope, no middleware chain, no Effect at all. The answer is the route's
 * (`makeUpgradeAnswerNow`: the handshake check, the shutdown check, `MediaStreams.acceptNow`,
 * which hands the socket to `ws` and starts the call's own fiber as before); the edge's duties
 * are its plain functions (src/Http/PlainEdge.ts): the request id on a refusal, the in-flight
 * count, the metrics and the access line. Media sockets are neither shed nor limited per
 * address (InFlight.ts, Audience.ts), and their requests are never traced (src/Server.ts), so
 * this is the same with tracing on. A credential to check first (`stream_token` in the query,
 * a tenant bearer) and any other path go to the Effect path (`next`).
 */
export const PlainUpgradeLive = Layer.scopedDiscard(Effect.gen(function*() {
  const slots = yield* Effect.serviceOption(NodeHooks)
  if (Option.isNone(slots)) return
  const answerNow = makeUpgradeAnswerNow(yield* MediaStreams, yield* Lifecycle)
  const edge = yield* EdgeState
  const plain = makePlainEdge(edge, (yield* AppConfig).trustProxy, yield* Effect.runtime<never>())

  // `head` is not kept: always empty for a conforming client (Upgrade.ts `takeUpgradeSocket`).
  slots.value.upgrade = (message, socket, _head, next) => {
    const url = message.url!
    if (message.method !== "GET" || !url.startsWith(ROUTE)) return next()
    if (url.length !== ROUTE.length && url[ROUTE.length] !== "?") return next()
    if (!withoutCredentials({ url, headers: message.headers as Readonly<Record<string, string | undefined>> })) return next()
    const begun = plain.begin(message)
    // Made only to answer over HTTP (a refusal), or by `takeUpgradeSocket` to detach it.
    const nodeResponse = lazyUpgradeResponse(message, socket, () => false)
    const request = new NodeRequest(message, nodeResponse, undefined, url, undefined, begun.address === begun.peer ? undefined : begun.address)
    edge.enter(undefined)
    let response: HttpServerResponse.HttpServerResponse
    try {
      // Defined: a request without credentials needs nothing checked before the upgrade.
      response = answerNow(request)!
    } catch (defect) {
      // As on the Effect path: the boundary's envelope (500), the defect logged.
      response = Runtime.runSync(begun.runtime)(answerUnhandled(request)(Cause.die(defect)))
    }
    edge.release(undefined)
    // After a 101 (ws wrote it; the response was detached and ended) nothing more is written.
    writeInMemory(nodeResponse(), "GET", finish(response, begun.context))
    // No fiber ran it: the access line's fiber id is #0.
    plain.answered(begun, "GET", url, response.status, 0)
  }
  yield* Effect.addFinalizer(() =>
    Effect.sync(() => {
      slots.value.upgrade = undefined
    }))
}))
