import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Clock, Effect, Either, FiberRef, HashMap, Metric, MetricBoundaries, MetricLabel, Option } from "effect"
import { RateLimiter } from "../Auth/RateLimit.js"
import { AppConfig } from "../Config.js"
import { audienceOf, exemptFromIpLimit } from "./Audience.js"
import { guardBody } from "./BodyGuard.js"
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

/** Bytes of a refused body node may discard so that the client reads its answer (see `keepsConnection`). */
const DISCARDABLE_BODY_BYTES = 16 * 1024 * 1024

const keepsConnection = (request: HttpServerRequest.HttpServerRequest, status: number) => {
  if (status === 400) return true
  if (status !== 413) return false
  const declared = Number(request.headers["content-length"])
  return Number.isInteger(declared) && declared <= DISCARDABLE_BODY_BYTES
}

const NO_TAGS: ReadonlyArray<MetricLabel.MetricLabel> = []

const finish = (response: HttpServerResponse.HttpServerResponse, context: RequestContext) => {
  let out = HttpServerResponse.setHeader(response, "x-request-id", context.requestId)
  if (response.status === 429) out = HttpServerResponse.setHeader(out, "retry-after", String(context.retryAfterSeconds ?? 60))
  return out
}

/**
 * The outermost middleware: gives every request an id (echoed in `x-request-id` and in
 * every log line), applies the per-address rate limit and writes the access log.
 *
 * Every request pays for this, so it is written as few Effect operations as it can be
 * (bench/RESULTS.md, "REST pass 3"): the request's own fiber is made for this request and
 * ends with it (HttpServer forks one per request), so the request context and the
 * pre-response hook are set on it without being restored; the checks and counters are plain
 * code; one `ensuring` releases both in-flight counts; metrics are updated in place.
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
  const release = (address: string | undefined) => {
    replicaInFlight.leave()
    if (address === undefined) return
    const left = (inFlightByAddress.get(address) ?? 1) - 1
    if (left <= 0) inFlightByAddress.delete(address)
    else inFlightByAddress.set(address, left)
  }

  const refuse = (request: HttpServerRequest.HttpServerRequest, context: RequestContext, status: number, message: string, headers?: Record<string, string>) =>
    Effect.map(errorBody(audienceOf(request.url), status, message), (body) =>
      finish(HttpServerResponse.unsafeJson(body, headers === undefined ? { status } : { status, headers }), context))

  /** Admission, the body guard and the app, for a request that already has its context. */
  const admitted = <E, R>(
    app: HttpApp.Default<E, R>,
    received: HttpServerRequest.HttpServerRequest,
    request: HttpServerRequest.HttpServerRequest,
    address: string,
    context: RequestContext
  ) =>
    Effect.gen(function*() {
      // Over capacity, queueing only grows latency and memory: shed the request at once
      // (this request is not counted yet: at most HTTP_MAX_IN_FLIGHT are served at a time).
      if (replicaInFlight.count >= config.httpMaxInFlight && !exemptFromShedding(request.url)) {
        return yield* refuse(request, context, 503, "Server busy; retry shortly", { "retry-after": "1" })
      }
      const counted = !exemptFromIpLimit(request.url)
      if (counted) {
        const decision = yield* limiter.hit(`ip:${address}`, config.rateLimitPerIpPerMinute)
        if (!decision.allowed) {
          context.retryAfterSeconds = decision.retryAfterSeconds
          return yield* refuse(request, context, 429, "Rate limit exceeded for this address")
        }
        if ((inFlightByAddress.get(address) ?? 0) >= config.maxConcurrentRequestsPerAddress) {
          context.retryAfterSeconds = 1
          return yield* refuse(request, context, 429, "Too many concurrent requests from this address")
        }
      }
      // The request fiber runs uninterruptibly here (HttpApp.toHandled), so nothing can stop it
      // between counting and installing the release.
      replicaInFlight.enter()
      if (counted) inFlightByAddress.set(address, (inFlightByAddress.get(address) ?? 0) + 1)
      return yield* Effect.ensuring(
        Effect.flatMap(guardBody(request, bodyLimits), (guarded) => {
          if (Either.isLeft(guarded)) {
            const { message, status } = guarded.left
            // A slow or endless body must not keep the connection busy: closed after the answer.
            // A body merely too large, of a declared length we can discard, is read to its end by
            // node after the answer instead: closing on unread data resets the connection and
            // the client may never see its 413.
            return refuse(request, context, status, message, keepsConnection(request, status) ? undefined : { connection: "close" })
          }
          // A request the edge did not change (no client address behind a proxy, no subprotocol
          // credential, no body to guard) is already in the context; any other is provided.
          return guarded.right === received ? app : Effect.provideService(app, HttpServerRequest.HttpServerRequest, guarded.right)
        }),
        Effect.sync(() => release(counted ? address : undefined))
      )
    })

  return <E, R>(app: HttpApp.Default<E, R>) =>
    Effect.gen(function*() {
      const received = yield* HttpServerRequest.HttpServerRequest
      // Everything after the edge sees the client's address as the request's remote address.
      const peer = Option.getOrElse(received.remoteAddress, () => "unknown")
      const address = resolveClientAddress(config.trustProxy, peer, received.headers)
      // A browser's log subscription carries its credential as a subprotocol (LiveLogs/BrowserAuth.ts).
      const request = withSubprotocolBearer(address === peer ? received : received.modify({ remoteAddress: address }))
      const given = request.headers["x-request-id"]
      const requestId = given !== undefined && SAFE_REQUEST_ID.test(given) ? given : yield* ids.uuid
      const context: RequestContext = { requestId, tenantId: undefined, retryAfterSeconds: undefined }
      const started = yield* Clock.currentTimeMillis
      // The JSON logger adds request_id (and tenant_id) from this context to every line (Observability/JsonLog.ts).
      yield* FiberRef.set(CurrentRequest, context)
      // The inner app writes its own response (errors included); headers go on through this hook.
      yield* HttpApp.appendPreResponseHandler((_request, response) => Effect.succeed(finish(response, context)))

      const response = yield* admitted(app, received, request, address, context)

      const elapsed = (yield* Clock.currentTimeMillis) - started
      const [total, duration] = metricsFor(request.method, response.status)
      total.unsafeUpdate(1, NO_TAGS)
      duration.unsafeUpdate(elapsed, NO_TAGS)
      const path = request.url.split("?")[0]!
      const annotations = {
        request_id: requestId,
        method: request.method,
        path,
        status: response.status,
        duration_ms: elapsed,
        client: address,
        ...(context.tenantId === undefined ? {} : { tenant_id: context.tenantId })
      }
      // Set on the request's own fiber, which ends with this line (no restore needed).
      yield* FiberRef.update(FiberRef.currentLogAnnotations, (current) =>
        HashMap.mutate(current, (all) => {
          for (const key in annotations) HashMap.set(all, key, annotations[key as keyof typeof annotations] as unknown)
        }))
      yield* path.startsWith("/health/") ? Effect.logDebug("http request") : Effect.logInfo("http request")
      return response
    })
})
