import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Clock, Effect, Either, Metric, MetricBoundaries, MetricLabel, Option } from "effect"
import { RateLimiter } from "../Auth/RateLimit.js"
import { AppConfig } from "../Config.js"
import { audienceOf, exemptFromIpLimit } from "./Audience.js"
import { guardBody } from "./BodyGuard.js"
import { clientAddress } from "./ClientAddress.js"
import { resolveClientAddress } from "./TrustProxy.js"
import { errorBody } from "./Errors.js"
import { CurrentRequest, type RequestContext } from "./RequestContext.js"
import { Ids } from "../Ids.js"
import { exemptFromShedding, makeInFlight } from "./InFlight.js"
import { fixedCounter, fixedHistogram } from "../Observability/FixedLabels.js"
import { withSubprotocolBearer } from "../LiveLogs/BrowserAuth.js"

const REQUEST_MS = MetricBoundaries.exponential({ start: 1, factor: 2, count: 14 })

/** The request metrics per method and status, made once (src/Observability/FixedLabels.ts). */
const tagged = new Map<string, readonly [Metric.Metric.Counter<number>, Metric.Metric.Histogram<number>]>()
const metricsFor = (method: string, status: number) => {
  const key = `${method} ${status}`
  let found = tagged.get(key)
  if (found === undefined) {
    const labels = [MetricLabel.make("method", method), MetricLabel.make("status", String(status))]
    found = [
      fixedCounter("http_server_requests_total", {
        description: "HTTP requests answered, by method and status",
        incremental: true
      }, labels),
      fixedHistogram("http_server_request_duration_ms", REQUEST_MS, "HTTP request duration in milliseconds", labels)
    ] as const
    tagged.set(key, found)
  }
  return found
}

/** A client's request id is echoed only if it is a sane token (it ends up in logs). */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

const requestIdFor = (request: HttpServerRequest.HttpServerRequest, fresh: Effect.Effect<string>) => {
  const given = request.headers["x-request-id"]
  return given !== undefined && SAFE_REQUEST_ID.test(given) ? Effect.succeed(given) : fresh
}

const finish = (response: HttpServerResponse.HttpServerResponse, context: RequestContext) => {
  let out = HttpServerResponse.setHeader(response, "x-request-id", context.requestId)
  if (response.status === 429) out = HttpServerResponse.setHeader(out, "retry-after", String(context.retryAfterSeconds ?? 60))
  return out
}

/**
 * The outermost middleware: gives every request an id (echoed in `x-request-id` and in
 * every log line), applies the per-address rate limit and writes the access log.
 */
export const makeEdge = Effect.gen(function*() {
  const config = yield* AppConfig
  const limiter = yield* RateLimiter
  const ids = yield* Ids
  /** Requests in flight on this replica: past HTTP_MAX_IN_FLIGHT new ones are shed with a 503. */
  const replicaInFlight = makeInFlight()
  const bodyLimits = {
    maxBytes: config.httpBodyLimitBytes,
    readTimeoutMs: config.httpBodyTimeoutMs,
    maxJsonDepth: config.httpJsonMaxDepth
  }
  /** Requests in flight per client address (this replica): bounds what one address can hold open. */
  const inFlightByAddress = new Map<string, number>()
  const release = (address: string) =>
    Effect.sync(() => {
      const left = (inFlightByAddress.get(address) ?? 1) - 1
      if (left <= 0) inFlightByAddress.delete(address)
      else inFlightByAddress.set(address, left)
    })

  return <E, R>(app: HttpApp.Default<E, R>) =>
    Effect.gen(function*() {
      const received = yield* HttpServerRequest.HttpServerRequest
      // Everything after the edge sees the client's address as the request's remote address.
      const address = resolveClientAddress(
        config.trustProxy,
        Option.getOrElse(received.remoteAddress, () => "unknown"),
        received.headers
      )
      // A browser's log subscription carries its credential as a subprotocol (LiveLogs/BrowserAuth.ts).
      const request = withSubprotocolBearer(received.modify({ remoteAddress: address }))
      const requestId = yield* requestIdFor(request, ids.uuid)
      const context: RequestContext = { requestId, tenantId: undefined, retryAfterSeconds: undefined }
      const started = yield* Clock.currentTimeMillis
      // The inner app writes its own response (errors included); headers go on through this hook.
      yield* HttpApp.appendPreResponseHandler((_request, response) => Effect.succeed(finish(response, context)))

      const response = yield* Effect.gen(function*() {
        // Over capacity, queueing only grows latency and memory: shed the request at once.
        if (replicaInFlight.count > config.httpMaxInFlight && !exemptFromShedding(request.url)) {
          const body = yield* errorBody(audienceOf(request.url), 503, "Server busy; retry shortly")
          return finish(HttpServerResponse.unsafeJson(body, { status: 503, headers: { "retry-after": "1" } }), context)
        }
        if (!exemptFromIpLimit(request.url)) {
          const decision = yield* limiter.hit(`ip:${clientAddress(request)}`, config.rateLimitPerIpPerMinute)
          if (!decision.allowed) {
            context.retryAfterSeconds = decision.retryAfterSeconds
            const body = yield* errorBody(audienceOf(request.url), 429, "Rate limit exceeded for this address")
            return finish(HttpServerResponse.unsafeJson(body, { status: 429 }), context)
          }
        }
        const counted = !exemptFromIpLimit(request.url)
        if (counted) {
          const current = inFlightByAddress.get(address) ?? 0
          if (current >= config.maxConcurrentRequestsPerAddress) {
            context.retryAfterSeconds = 1
            const body = yield* errorBody(audienceOf(request.url), 429, "Too many concurrent requests from this address")
            return finish(HttpServerResponse.unsafeJson(body, { status: 429 }), context)
          }
          inFlightByAddress.set(address, current + 1)
        }
        return yield* Effect.gen(function*() {
          const guarded = yield* guardBody(request, bodyLimits)
          if (Either.isLeft(guarded)) {
            const { message, status } = guarded.left
            const body = yield* errorBody(audienceOf(request.url), status, message)
            // An unread or slow body must not keep the connection (and this handler's slot) busy.
            const headers = status === 400 ? {} : { connection: "close" }
            return finish(HttpServerResponse.unsafeJson(body, { status, headers }), context)
          }
          return yield* Effect.provideService(app, HttpServerRequest.HttpServerRequest, guarded.right)
        }).pipe(Effect.ensuring(counted ? release(address) : Effect.void))
      }).pipe(
        replicaInFlight.counted,
        // The JSON logger adds request_id from this context to every line (Observability/JsonLog.ts).
        Effect.locally(CurrentRequest, context)
      )

      const elapsed = (yield* Clock.currentTimeMillis) - started
      const [total, duration] = metricsFor(request.method, response.status)
      yield* Metric.increment(total)
      yield* Metric.update(duration, elapsed)
      const log = request.url.startsWith("/health/") ? Effect.logDebug : Effect.logInfo
      yield* log("http request").pipe(
        Effect.annotateLogs({
          request_id: context.requestId,
          method: request.method,
          path: request.url.split("?")[0],
          status: response.status,
          duration_ms: elapsed,
          client: clientAddress(request),
          ...(context.tenantId === undefined ? {} : { tenant_id: context.tenantId })
        })
      )
      return response
    })
})
