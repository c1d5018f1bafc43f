import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Context, Effect, Layer, LogLevel, type Metric, MetricBoundaries, MetricLabel } from "effect"
import { AppConfig } from "../Config.js"
import { Ids } from "../Ids.js"
import { fixedCounter, fixedHistogram } from "../Observability/FixedLabels.js"
import type { BodyLimits } from "./BodyGuard.js"
import { exemptFromShedding, makeInFlight } from "./InFlight.js"
import type { AccessFields, RequestContext } from "./RequestContext.js"

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

const NO_TAGS: ReadonlyArray<MetricLabel.MetricLabel> = []

/** A client's request id is echoed only if it is a sane token (it ends up in logs). */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** The edge's response headers: the request id, and Retry-After on a 429. */
export const finish = (response: HttpServerResponse.HttpServerResponse, context: RequestContext) => {
  let out = HttpServerResponse.setHeader(response, "x-request-id", context.requestId)
  if (response.status === 429) out = HttpServerResponse.setHeader(out, "retry-after", String(context.retryAfterSeconds ?? 60))
  return out
}

/** A request's access line fields and level (health probes at debug). */
export const accessOf = (method: string, url: string, status: number, elapsed: number, client: string) => {
  const path = url.split("?")[0]!
  const access: AccessFields = { method, path, status, duration_ms: elapsed, client }
  return { access, level: path.startsWith("/health/") ? LogLevel.Debug : LogLevel.Info }
}

/**
 * What the edge keeps across requests (this replica's in-flight counts, overall and per client
 * address) and its per-request duties as plain functions: the Effect edge (Edge.ts) and the
 * paths served straight off node's events (src/Twilio/PlainWebhook.ts) use these one
 * implementation, and so share the counts that shedding and the per-address cap read.
 */
export class EdgeState extends Context.Tag("EdgeState")<EdgeState, {
  readonly bodyLimits: BodyLimits
  readonly maxInFlight: number
  readonly maxConcurrentPerAddress: number
  /** The request's context: the client's `x-request-id` when it is a sane token, else a new id. */
  readonly contextFor: (givenRequestId: string | undefined) => RequestContext
  /** Whether a new request to `url` is shed now (HTTP_MAX_IN_FLIGHT reached; probes and media exempt). */
  readonly sheds: (url: string) => boolean
  readonly concurrentFrom: (address: string) => number
  /** Counts a request in (and against its address when `address` is given). */
  readonly enter: (address: string | undefined) => void
  /** Counts it out again: exactly once for each `enter`. */
  readonly release: (address: string | undefined) => void
  /** The request metrics for an answered request. */
  readonly measure: (method: string, status: number, elapsed: number) => void
}>() {}

export const EdgeStateLive = Layer.effect(EdgeState, Effect.gen(function*() {
  const config = yield* AppConfig
  const ids = yield* Ids
  /** Requests in flight on this replica: past HTTP_MAX_IN_FLIGHT new ones are shed with a 503. */
  const replicaInFlight = makeInFlight()
  /** Requests in flight per client address (this replica): bounds what one address can hold open. */
  const inFlightByAddress = new Map<string, number>()
  return {
    bodyLimits: {
      maxBytes: config.httpBodyLimitBytes,
      readTimeoutMs: config.httpBodyTimeoutMs,
      maxJsonDepth: config.httpJsonMaxDepth
    },
    maxInFlight: config.httpMaxInFlight,
    maxConcurrentPerAddress: config.maxConcurrentRequestsPerAddress,
    contextFor: (given) => ({
      requestId: given !== undefined && SAFE_REQUEST_ID.test(given) ? given : ids.nextUuid(),
      tenantId: undefined,
      retryAfterSeconds: undefined,
      access: undefined
    }),
    // Over capacity, queueing only grows latency and memory: shed at once.
    sheds: (url) => replicaInFlight.count >= config.httpMaxInFlight && !exemptFromShedding(url),
    concurrentFrom: (address) => inFlightByAddress.get(address) ?? 0,
    enter: (address) => {
      replicaInFlight.enter()
      if (address !== undefined) inFlightByAddress.set(address, (inFlightByAddress.get(address) ?? 0) + 1)
    },
    release: (address) => {
      replicaInFlight.leave()
      if (address === undefined) return
      const left = (inFlightByAddress.get(address) ?? 1) - 1
      if (left <= 0) inFlightByAddress.delete(address)
      else inFlightByAddress.set(address, left)
    },
    measure: (method, status, elapsed) => {
      const [total, duration] = metricsFor(method, status)
      total.unsafeUpdate(1, NO_TAGS)
      duration.unsafeUpdate(elapsed, NO_TAGS)
    }
  }
}))
