import { HttpApp, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Clock, Effect, Metric, MetricBoundaries, MetricLabel } from "effect"
import { RateLimiter } from "../Auth/RateLimit.js"
import { AppConfig } from "../Config.js"
import { audienceOf, exemptFromIpLimit } from "./Audience.js"
import { clientAddress } from "./ClientAddress.js"
import { errorBody } from "./Errors.js"
import { CurrentRequest, type RequestContext } from "./RequestContext.js"
import { Ids } from "../Ids.js"
import { exemptFromShedding, makeInFlight } from "./InFlight.js"

const requestsTotal = Metric.counter("http_server_requests_total", {
  description: "HTTP requests answered, by method and status",
  incremental: true
})

const requestDuration = Metric.histogram(
  "http_server_request_duration_ms",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 14 }),
  "HTTP request duration in milliseconds"
)

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
  const inFlight = makeInFlight()

  return <E, R>(app: HttpApp.Default<E, R>) =>
    Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const requestId = yield* requestIdFor(request, ids.uuid)
      const context: RequestContext = { requestId, tenantId: undefined, retryAfterSeconds: undefined }
      const started = yield* Clock.currentTimeMillis
      // The inner app writes its own response (errors included); headers go on through this hook.
      yield* HttpApp.appendPreResponseHandler((_request, response) => Effect.succeed(finish(response, context)))

      const response = yield* Effect.gen(function*() {
        // Over capacity, queueing only grows latency and memory: shed the request at once.
        if (inFlight.count > config.httpMaxInFlight && !exemptFromShedding(request.url)) {
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
        return yield* app
      }).pipe(
        inFlight.counted,
        Effect.annotateLogs("request_id", context.requestId),
        Effect.locally(CurrentRequest, context)
      )

      const elapsed = (yield* Clock.currentTimeMillis) - started
      const labels = [MetricLabel.make("method", request.method), MetricLabel.make("status", String(response.status))]
      yield* Metric.increment(Metric.taggedWithLabels(requestsTotal, labels))
      yield* Metric.update(Metric.taggedWithLabels(requestDuration, labels), elapsed)
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
