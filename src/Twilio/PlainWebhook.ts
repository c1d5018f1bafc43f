import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Cause, Clock, Context, DefaultServices, Effect, Exit, FiberId, FiberRef, FiberRefs, Layer, type LogLevel, Option, Runtime } from "effect"
import type { IncomingMessage, ServerResponse } from "node:http"
import { AppConfig } from "../Config.js"
import { readBodyThen, rememberBodyRead } from "../Http/BodyGuard.js"
import { accessOf, EdgeState, finish } from "../Http/EdgeState.js"
import { NodeHooks } from "../Http/NodeHooks.js"
import { NodeRequest } from "../Http/NodeRequest.js"
import { type AccessFields, CurrentRequest, type RequestContext } from "../Http/RequestContext.js"
import { writeInMemory } from "../Http/ResponseWriter.js"
import { unstorableUrl } from "../Http/TextGuard.js"
import { resolveClientAddress } from "../Http/TrustProxy.js"
import { writeAccessLineWith } from "../Observability/JsonLog.js"
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
  const runtime = yield* Effect.runtime<never>()
  const clock = Context.get(FiberRefs.getOrDefault(runtime.fiberRefs, DefaultServices.currentServices), Clock.Clock)
  const refOf = <A>(ref: FiberRef.FiberRef<A>) => FiberRefs.getOrDefault(runtime.fiberRefs, ref)
  const { maxBytes, readTimeoutMs } = edge.bodyLimits

  /** The runtime with this request's context where a request fiber has it (log lines' request_id, error envelopes). */
  const runtimeFor = (context: RequestContext) =>
    Runtime.make({
      context: Context.empty(),
      runtimeFlags: runtime.runtimeFlags,
      fiberRefs: FiberRefs.updateAs(runtime.fiberRefs, { fiberId: FiberId.none, fiberRef: CurrentRequest, value: context })
    })

  const logAccess = (run: Runtime.Runtime<never>, fiberId: number, level: LogLevel.LogLevel, context: RequestContext, access: AccessFields) => {
    if (writeAccessLineWith(refOf, fiberId, level, context, access, clock.unsafeCurrentTimeMillis())) return
    // Another logger is installed (tests, a custom setup): the line goes through Effect's logger, as the edge's does.
    context.access = access
    Runtime.runSync(run)(Effect.logWithLevel(level, "http request"))
    context.access = undefined
  }

  const answer = (
    message: IncomingMessage,
    response: ServerResponse,
    query: VoiceWebhook["query"],
    params: VoiceWebhook["params"],
    started: number
  ) => {
    const url = message.url!
    // Everything after the edge sees the client's address as the request's remote address.
    const peer = message.socket.remoteAddress ?? "unknown"
    const address = resolveClientAddress(trustProxy, peer, message.headers as Readonly<Record<string, string | undefined>>)
    const request = new NodeRequest(message, response, undefined, url, undefined, address === peer ? undefined : address)
    const context = edge.contextFor(request.headers["x-request-id"])
    const run = runtimeFor(context)
    const fiber = Runtime.runFork(run)(respondTo(request, webhooks.answer("inbound", signedWebhook(publicBaseUrl, request, params, true, query))))
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
      const elapsed = clock.unsafeCurrentTimeMillis() - started
      const status = exit.value.status
      edge.measure("POST", status, elapsed)
      const { access, level } = accessOf("POST", url, status, elapsed, address)
      logAccess(run, fiber.id().id, level, context, access)
    })
  }

  slots.value.request = (message, response, next) => {
    const url = message.url!
    const query = hotWebhookQuery(message.method!, url, message.headers["content-type"])
    if (query === undefined || unstorableUrl(url) !== undefined || edge.sheds(url)) return next()
    // A declared length over the limit is refused by the edge before reading (and drained by node).
    const declared = Number(message.headers["content-length"] ?? "0")
    if (Number.isFinite(declared) && declared > maxBytes) return next()
    const started = clock.unsafeCurrentTimeMillis()
    edge.enter(undefined)
    readBodyThen(message, maxBytes, readTimeoutMs, (read) => {
      const params = read._tag === "Body" ? webhookForm(read.text) : undefined
      if (params !== undefined) return answer(message, response, query, params, started)
      edge.release(undefined)
      rememberBodyRead(message, read)
      next()
    })
  }
  yield* Effect.addFinalizer(() => Effect.sync(() => {
    slots.value.request = undefined
  }))
}))
