import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Cause, Context, Effect, Either, Option, Schema } from "effect"
import type { CurrentTenant } from "../Auth/Middleware.js"
import { TenantAuthentication } from "../Auth/TenantAuthLive.js"
import { CallLogFilters, LatencyQuery } from "../CallLogs/Api.js"
import { CallLogs } from "../CallLogs/CallLogs.js"
import { callLogDetail, callLogLatency, callLogsPage, callLogStats } from "../CallLogs/Http.js"
import { tenantStatus } from "../Health/Http.js"
import { ServiceInfo } from "../Health/ServiceInfo.js"
import { evalStats } from "../VoiceEvals/Http.js"
import { VoiceSessionEvals } from "../VoiceEvals/VoiceSessionEvals.js"
import { OutcomeSeriesQuery, OutcomeStatsQuery } from "../VoiceOutcomes/Api.js"
import { outcomeSeries, outcomeStats } from "../VoiceOutcomes/Http.js"
import { VoiceOutcomes } from "../VoiceOutcomes/VoiceOutcomes.js"
import { VoiceSessionFilters } from "../VoiceSessions/Api.js"
import { voiceSessionDetail, voiceSessionsPage } from "../VoiceSessions/Http.js"
import { VoiceSessions } from "../VoiceSessions/VoiceSessions.js"
import { answerUnhandled } from "./ErrorBoundary.js"
import { ApiError } from "./Errors.js"
import { nameRoute } from "./RouteSpan.js"
import { parseSimpleQuery, SIMPLE_URL } from "./SimpleQuery.js"

type Answer = (tenant: CurrentTenant["Type"]) => Effect.Effect<HttpServerResponse.HttpServerResponse, { readonly _tag: string }>

/** A request the hot reads take: which route it is and how it is answered for the authenticated tenant. */
interface HotRoute {
  /** The route as HttpApi declares it (the span's `http.route`). */
  readonly route: string
  readonly answer: Answer
}

const MEMO_ENTRIES = 256
const MEMO_KEY_LENGTH = 256

/**
 * The query decoded by the endpoint's own schema (compiled once). Undefined when it does not
 * decode: HttpApi then answers, so a bad `limit` gets exactly the 400 (or, unauthenticated,
 * the 401) it always got, from the one place that writes them.
 */
const queryDecoder = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownEither(schema)
  // Dashboards poll the same few URLs: the decoded query (an immutable value) is remembered by
  // its text, so the schema runs once per distinct query rather than once per request. Bounded
  // in entries and in key length; emptied when full (cursors make most long queries unique).
  const memo = new Map<string, A | undefined>()
  return (query: string): A | undefined => {
    const known = memo.get(query)
    if (known !== undefined || memo.has(query)) return known
    const decoded = decode(parseSimpleQuery(query))
    const filters = Either.isRight(decoded) ? decoded.right : undefined
    if (query.length <= MEMO_KEY_LENGTH) {
      if (memo.size >= MEMO_ENTRIES) memo.clear()
      memo.set(query, filters)
    }
    return filters
  }
}

/** Ids the router passes through as they are (no percent-decoding) and within its 100-character parameter limit. */
const PLAIN_ID = /^[A-Za-z0-9_-]{1,100}$/
const CALL_LOG_PREFIX = "/api/v1/call-logs/"
const LATENCY_PATH = "/api/v1/call-logs/latency"
/** Static siblings of `/api/v1/call-logs/:id`, which the router prefers. */
const CALL_LOG_SIBLINGS = new Set(["stats", "latency"])
const SESSION_PREFIX = "/api/v1/voice-sessions/"
/** `/api/v1/voice-sessions/by-stream/:stream_id`'s first segment: left to the router as it is alone. */
const SESSION_SIBLINGS = new Set(["by-stream"])

const declaredErrors: ReadonlyArray<Schema.Schema.AnyNoContext & { readonly to: { readonly _tag: string } }> = Object.values(ApiError)

/** Declared tenant errors, by tag: each encoded by its own wire schema with its own status, as HttpApi does. */
const errorResponses = new Map<string, (error: unknown) => Effect.Effect<HttpServerResponse.HttpServerResponse>>(
  declaredErrors.map((schema) => {
    const encode = Schema.encodeUnknown(schema)
    const status = HttpApiSchema.getStatusError(schema)
    return [
      schema.to._tag,
      (error) => Effect.map(Effect.orDie(encode(error)), (body) => HttpServerResponse.unsafeJson(body, { status }))
    ] as const
  })
)

/**
 * The hottest tenant reads (dashboards poll them all day) served below HttpApi's per-handler
 * machinery: `GET /api/v1/call-logs`, `/api/v1/voice-sessions`, `/api/v1/call-logs/{id}`,
 * `/api/v1/voice-sessions/{id}`, `/status` and the statistics (`/api/v1/call-logs/stats`, `/api/v1/voice-outcomes/stats` and
 * `/timeseries`, `/api/v1/voice-session-evals/stats`, `/api/v1/call-logs/latency`). Under
 * HttpApi every request copies the fiber's context for the router, merges
 * the group's ~90 services into it for the handler and provides the tenant through the
 * security middleware (bench/RESULTS.md, "Hot reads"). Here the services are resolved once
 * and the request runs the same pieces directly: the endpoint's schema for the query, the
 * same tenant authentication (API key cache, tenant rate limit), the same handler function
 * and the same error encoders and boundary. The HttpApi definitions still describe these
 * endpoints (the OpenAPI document and the client are unchanged) and still serve anything
 * this does not take: other methods, the legacy aliases, percent-encoded or undecodable
 * input.
 *
 * It is an HttpApi-level middleware in front of the router (not a server middleware): the
 * response then goes out through the same writer, with the edge's headers (request id,
 * Retry-After) and HttpApi's last-resort error encoding around it.
 */
export const makeHotReads = Effect.gen(function*() {
  const { authenticate } = yield* TenantAuthentication
  const callLogs = yield* CallLogs
  const sessions = yield* VoiceSessions
  const info = yield* ServiceInfo
  const callLogQuery = queryDecoder(CallLogFilters)
  const sessionQuery = queryDecoder(VoiceSessionFilters)
  const outcomes = yield* VoiceOutcomes
  const evals = yield* VoiceSessionEvals
  const outcomeStatsQuery = queryDecoder(OutcomeStatsQuery)
  const outcomeSeriesQuery = queryDecoder(OutcomeSeriesQuery)
  const latencyQuery = queryDecoder(LatencyQuery)

  /** The statistics dashboards poll; undefined for any other path (or a query HttpApi must judge). */
  const statisticsRoute = (path: string, query: string): HotRoute | undefined => {
    if (path === "/api/v1/call-logs/stats") return { route: path, answer: (tenant) => callLogStats(callLogs, tenant.tenantId) }
    if (path === "/api/v1/voice-session-evals/stats") return { route: path, answer: (tenant) => evalStats(evals, tenant.tenantId) }
    if (path === "/api/v1/voice-outcomes/stats") {
      const params = outcomeStatsQuery(query)
      return params === undefined ? undefined : { route: path, answer: (tenant) => outcomeStats(outcomes, tenant.tenantId, params) }
    }
    if (path === "/api/v1/voice-outcomes/timeseries") {
      const params = outcomeSeriesQuery(query)
      return params === undefined ? undefined : { route: path, answer: (tenant) => outcomeSeries(outcomes, tenant.tenantId, params) }
    }
    return undefined
  }

  const routeFor = (path: string, query: string): HotRoute | undefined => {
    if (path === "/api/v1/call-logs") {
      const filters = callLogQuery(query)
      return filters === undefined
        ? undefined
        : { route: path, answer: (tenant) => callLogsPage(callLogs, tenant.tenantId, filters) }
    }
    if (path === "/api/v1/voice-sessions") {
      const filters = sessionQuery(query)
      return filters === undefined
        ? undefined
        : { route: path, answer: (tenant) => voiceSessionsPage(sessions, tenant.tenantId, filters) }
    }
    if (path === "/status") return { route: path, answer: (tenant) => tenantStatus(info, tenant) }
    if (path.endsWith("/stats") || path.endsWith("/timeseries")) return statisticsRoute(path, query)
    if (path === LATENCY_PATH) {
      const params = latencyQuery(query)
      return params === undefined ? undefined : { route: path, answer: (tenant) => callLogLatency(callLogs, tenant.tenantId, params) }
    }
    if (path.startsWith(CALL_LOG_PREFIX)) {
      const id = path.slice(CALL_LOG_PREFIX.length)
      return PLAIN_ID.test(id) && !CALL_LOG_SIBLINGS.has(id)
        ? { route: "/api/v1/call-logs/:id", answer: (tenant) => callLogDetail(callLogs, tenant.tenantId, id) }
        : undefined
    }
    if (path.startsWith(SESSION_PREFIX)) {
      const id = path.slice(SESSION_PREFIX.length)
      return PLAIN_ID.test(id) && !SESSION_SIBLINGS.has(id)
        ? { route: "/api/v1/voice-sessions/:id", answer: (tenant) => voiceSessionDetail(sessions, tenant.tenantId, id) }
        : undefined
    }
    return undefined
  }

  const serve = (request: HttpServerRequest.HttpServerRequest, hot: HotRoute) => {
    const answered = Effect.flatMap(authenticate, hot.answer)
    // Interruptible as under the router: a client that goes away stops the query.
    return Effect.catchAllCause(Effect.interruptible(answered), (cause) => {
      const failure = Cause.failureOption(cause)
      const respond = Option.isSome(failure) ? errorResponses.get(failure.value._tag) : undefined
      return respond === undefined ? answerUnhandled(request)(cause) : respond(failure.pipe(Option.getOrThrow))
    })
  }

  return <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
    Effect.withFiberRuntime<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest>((fiber) => {
      const context = fiber.currentContext
      const request = Context.unsafeGet(context, HttpServerRequest.HttpServerRequest)
      if (request.method !== "GET" || !SIMPLE_URL.test(request.url)) return app
      const queryAt = request.url.indexOf("?")
      const hot = queryAt === -1
        ? routeFor(request.url, "")
        : routeFor(request.url.slice(0, queryAt), request.url.slice(queryAt + 1))
      if (hot === undefined) return app
      nameRoute(context, hot.route)
      return serve(request, hot)
    })
})

export const HotReadsLive = HttpApiBuilder.middleware(makeHotReads)
