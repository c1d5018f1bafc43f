import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Cause, Effect, Exit, FiberRef, Layer, Option, Runtime } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import { AppConfig } from "../Config.js"
import { readBodyThen, rememberBodyRead } from "../Http/BodyGuard.js"
import { EdgeState, finish } from "../Http/EdgeState.js"
import { NodeHooks } from "../Http/NodeHooks.js"
import { NodeRequest } from "../Http/NodeRequest.js"
import { makePlainEdge, type PlainRequest } from "../Http/PlainEdge.js"
import { writeInMemory } from "../Http/ResponseWriter.js"
import { unstorableUrl } from "../Http/TextGuard.js"
import { hotWebhookQuery, respondTo, webhookForm } from "./HotWebhook.js"
import { signedWebhook, type VoiceWebhook } from "./VoiceWebhook.js"
import { VoiceWebhooks } from "./Webhooks.js"

/**
 * The incoming-call webhook served straight off node's `request` event: no request fiber, no
 * request scope, no middleware chain; one fiber runs the answer itself (`VoiceWebhooks.answer`,
 * plain code around the admission's one statement) on the runtime captured when this layer was
 * built. A burst of calls is a burst of these (bench/RESULTS.md, "Stop 34, helper hookfiber").
 *
 * The edge's duties are its plain functions (src/Http/EdgeState.ts), shared with the Effect
 * edge: the request id and `x-request-id`, shedding, the in-flight count, the body's bounds
 * (BodyGuard's reader), the metrics and the access line. The answer is HotWebhook's
 * (`respondTo`). Everything else goes to the Effect path unchanged (`next`): another route or
 * shape (`hotWebhookQuery`), a request to shed, a body over the limit, slow, unreadable or not
 * the webhook's form (the edge judges the body already read, `rememberBodyRead`). With tracing
 * on (OTEL_EXPORTER_OTLP_ENDPOINT set; src/Telemetry.ts turns it off otherwise) this path is not
 * installed: the request's server span, the webhook's spans and the TwiML's traceparent are the
 * Effect path's. The webhook is not rate limited per address (Audience.ts
 * `exemptFromIpLimit`), so there is no limiter here.
 */
export const PlainWebhookLive = Layer.scopedDiscard(Effect.gen(function*() {
  const slots = yield* Effect.serviceOption(NodeHooks)
  // Tracing on (an exporter, or Effect's own tracer in tests): the Effect path, whose request span the TwiML links to.
  if (Option.isNone(slots) || (yield* FiberRef.get(FiberRef.currentTracerEnabled))) return
  const webhooks = yield* VoiceWebhooks
  const { publicBaseUrl, trustProxy } = yield* AppConfig
  const edge = yield* EdgeState
  const plain = makePlainEdge(edge, trustProxy, yield* Effect.runtime<never>())
  const { maxBytes, readTimeoutMs } = edge.bodyLimits

  const answer = (
    message: IncomingMessage,
    response: ServerResponse,
    begun: PlainRequest,
    query: VoiceWebhook["query"],
    params: VoiceWebhook["params"]
  ) => {
    const url = message.url!
    // Everything after the edge sees the client's address as the request's remote address.
    const { address, context, peer } = begun
    const request = new NodeRequest(message, response, undefined, url, undefined, address === peer ? undefined : address)
    const hook = signedWebhook(publicBaseUrl, request, params, true, query)
    const fiber = Runtime.runFork(begun.runtime)(respondTo(request, webhooks.answer("inbound", hook)))
    // A client that goes away before its answer interrupts it, as it does a request fiber.
    const onClose = () => {
      if (!response.writableEnded) fiber.unsafeInterruptAsFork(HttpServerError.clientAbortFiberId)
    }
    response.on("close", onClose)
    fiber.addObserver((exit) => {
      response.off("close", onClose)
      edge.release(undefined)
      if (Exit.isFailure(exit)) {
        // As the request fiber's own fallback: no access line or metrics for a request that failed outright.
        if (!Cause.isInterruptedOnly(exit.cause)) writeInMemory(response, "POST", HttpServerResponse.empty({ status: 500 }))
        return
      }
      writeInMemory(response, "POST", finish(exit.value, context))
      plain.answered(begun, "POST", url, exit.value.status, fiber.id().id)
    })
  }

  slots.value.request = (message, response, next) => {
    const url = message.url!
    const query = hotWebhookQuery(message.method!, url, message.headers["content-type"])
    if (query === undefined || unstorableUrl(url) !== undefined || edge.sheds(url)) return next()
    // A declared length over the limit is refused by the edge before reading (and drained by node).
    const declared = Number(message.headers["content-length"] ?? "0")
    if (Number.isFinite(declared) && declared > maxBytes) return next()
    const begun = plain.begin(message)
    edge.enter(undefined)
    readBodyThen(message, maxBytes, readTimeoutMs, (read) => {
      const params = read._tag === "Body" ? webhookForm(read.text) : undefined
      if (params !== undefined) return answer(message, response, begun, query, params)
      edge.release(undefined)
      rememberBodyRead(message, read)
      next()
    })
  }
  yield* Effect.addFinalizer(() => Effect.sync(() => {
    slots.value.request = undefined
  }))
}))
