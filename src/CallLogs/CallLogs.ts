import { Clock, Effect, Either, Schema } from "effect"
import { isoOfTimestamptz } from "../Database/TimestampText.js"
import { Uuid } from "../Http/Schemas.js"
import { CallAnalyticsRepo } from "./AnalyticsRepo.js"
import { CallLatencyRepo } from "./LatencyRepo.js"
import { LatencyReportCache } from "./LatencyReportCache.js"
import { CallLatencyRollup } from "./LatencyRollup.js"
import { summaryJson } from "./ListJson.js"
import type { CallLogFilters } from "./Api.js"
import { type CallLogListRow, CallLogsRepo, type ListQuery } from "./Repo.js"
import { spanned } from "../Observability/Spans.js"
import { storedDirections } from "./WireDirection.js"

export class InvalidCallLogQuery extends Schema.TaggedError<InvalidCallLogQuery>()("InvalidCallLogQuery", {
  message: Schema.String
}) {
  readonly status = 400 as const
}

export class CallLogNotFound extends Schema.TaggedError<CallLogNotFound>()("CallLogNotFound", { id: Schema.String }) {
  readonly status = 404 as const
  override get message() {
    return `Call log not found: ${this.id}`
  }
}

const STATUSES = ["in_progress", "completed", "failed", "escalated", "busy", "no_answer", "canceled"]
const OUTCOMES = ["answered", "voicemail", "no_answer", "busy", "failed"]
/** `web` (console test calls, shown as inbound) is beyond the spec's values; the spec's filter is a free string. */
const DIRECTIONS = ["inbound", "outbound", "web"] as const
const isUuid = Schema.is(Uuid)
/** Where a list row (an array, Repo.ts `CallLogListRow`) holds its keyset position. */
const STARTED_AT = summaryJson.position("started_at")
const ID = summaryJson.position("id")

export const WINDOWS = { "24h": 24 * 3600_000, "7d": 7 * 24 * 3600_000, "30d": 30 * 24 * 3600_000, all: null } as const
export type LatencyWindow = keyof typeof WINDOWS

const isWindow = (window: string): window is LatencyWindow => Object.hasOwn(WINDOWS, window)

/** Windows read from the day rollups (migration 0036); the shorter ones sort their few calls. */
const ROLLED_UP: ReadonlySet<LatencyWindow> = new Set(["30d", "all"])

const oneOf = <A extends string>(name: string, value: string | undefined, allowed: ReadonlyArray<A>) =>
  value === undefined || (allowed as ReadonlyArray<string>).includes(value)
    ? Either.right(value as A | undefined)
    : Either.left(`${name} must be one of ${allowed.join(", ")}`)

const date = (name: string, value: string | undefined) => {
  if (value === undefined) return Either.right(undefined)
  const parsed = new Date(value)
  return Number.isNaN(parsed.getTime()) ? Either.left(`${name} must be an ISO 8601 datetime`) : Either.right(parsed)
}

/** The cursor is the last row's (started_at, id), opaque to clients. */
export const encodeCursor = (startedAt: string, id: string) => Buffer.from(`${startedAt}|${id}`, "utf8").toString("base64url")

const decodeCursor = (cursor: string | undefined) => {
  if (cursor === undefined) return Either.right(undefined)
  const [startedAt, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|")
  return startedAt !== undefined && id !== undefined && isUuid(id) && !Number.isNaN(new Date(startedAt).getTime())
    ? Either.right({ startedAt, id })
    : Either.left("cursor is not a cursor returned by this API")
}

/** The validated query, or what is wrong with the filters (plain code: every list request runs it). */
const toQuery = (tenantId: string, f: CallLogFilters): Either.Either<ListQuery, string> => {
  const status = oneOf("status", f.status, STATUSES)
  if (Either.isLeft(status)) return Either.left(status.left)
  const outcome = oneOf("outcome", f.outcome, OUTCOMES)
  if (Either.isLeft(outcome)) return Either.left(outcome.left)
  const direction = oneOf("direction", f.direction, DIRECTIONS)
  if (Either.isLeft(direction)) return Either.left(direction.left)
  const fromDate = date("from_date", f.from_date)
  if (Either.isLeft(fromDate)) return Either.left(fromDate.left)
  const toDate = date("to_date", f.to_date)
  if (Either.isLeft(toDate)) return Either.left(toDate.left)
  const after = decodeCursor(f.cursor)
  if (Either.isLeft(after)) return Either.left(after.left)
  return Either.right({
    tenantId,
    status: status.right,
    outcome: outcome.right,
    directions: direction.right === undefined ? undefined : storedDirections(direction.right),
    fromNumber: f.from_number,
    toNumber: f.to_number,
    escalated: f.escalated,
    fromDate: fromDate.right,
    toDate: toDate.right,
    minDuration: f.min_duration,
    maxDuration: f.max_duration,
    transcriptSearch: f.transcript_search === "" ? undefined : f.transcript_search,
    callSid: f.call_sid,
    after: after.right,
    offset: f.offset ?? 0,
    limit: f.limit ?? 50
  })
}

/** A tenant's call history and the aggregates built on it. */
export class CallLogs extends Effect.Service<CallLogs>()("CallLogs", {
  effect: Effect.gen(function*() {
    const repo = yield* CallLogsRepo
    const analytics = yield* CallAnalyticsRepo
    const latencyReports = yield* CallLatencyRepo
    const latencyRollup = yield* CallLatencyRollup
    const latencyCache = yield* LatencyReportCache

    // Every list request: a span only when tracing is on, and no stack captured per call (Effect.fn).
    // The filters are checked as the effect is built (pure), so a valid query costs no extra step.
    const list = (
      tenantId: string,
      filters: CallLogFilters
    ): Effect.Effect<
      { readonly calls: ReadonlyArray<CallLogListRow>; readonly nextCursor: string | null },
      InvalidCallLogQuery | Effect.Effect.Error<ReturnType<typeof repo.list>>
    > => {
      const query = toQuery(tenantId, filters)
      if (Either.isLeft(query)) {
        return spanned("CallLogs.list")(Effect.fail(new InvalidCallLogQuery({ message: `Invalid query filter: ${query.left}` })))
      }
      const { limit } = query.right
      // One row more than asked tells whether there is a next page.
      return Effect.map(repo.list({ ...query.right, limit: limit + 1 }), (rows) => {
        const page = rows.length > limit ? rows.slice(0, limit) : rows
        const last = page[page.length - 1]
        return {
          calls: page,
          nextCursor: rows.length > limit && last !== undefined
            ? encodeCursor(isoOfTimestamptz(last[STARTED_AT] as string), last[ID] as string)
            : null
        }
      }).pipe(spanned("CallLogs.list"))
    }

    // Polled too (a detail view): spanned, as list. The row is the columns its detail is written from (DetailJson.ts).
    const get = (tenantId: string, id: string) =>
      Effect.flatMap(repo.find(tenantId, id), (row) => row === undefined ? Effect.fail(new CallLogNotFound({ id })) : Effect.succeed(row))
        .pipe(spanned("CallLogs.get"))

    // Polled by dashboards: a span only when tracing is on, no stack captured per call (Effect.fn's).
    const stats = (tenantId: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => analytics.stats(tenantId, new Date(now - WINDOWS["24h"]))).pipe(
        spanned("CallLogs.stats")
      )

    // Polled by dashboards too: spanned, as stats. Answered from this replica's cache while the
    // tenant's calls in the window are unchanged (LatencyReportCache.ts); the key is every
    // parameter the report depends on (the tenant last: the other two hold no space).
    const latency = (tenantId: string, window: string, samples: number) =>
      Effect.flatMap(
        isWindow(window)
          ? Effect.succeed(window)
          : Effect.fail(new InvalidCallLogQuery({ message: "Invalid query filter: window must be one of 24h, 7d, 30d, all" })),
        (window) => {
          const span = WINDOWS[window]
          const bucket = window === "24h" ? "hour" as const : "day" as const
          return Effect.flatMap(Clock.currentTimeMillis, (now) => {
            const since = span === null ? null : new Date(now - span)
            const report = Effect.map(
              ROLLED_UP.has(window)
                ? latencyRollup.report(tenantId, since, samples, window)
                : latencyReports.report(tenantId, since, samples, bucket, window),
              (report) => ({ ...report, bucket, window })
            )
            return latencyCache.cached(`${window} ${samples} ${tenantId}`, tenantId, since, report)
          })
        }
      ).pipe(spanned("CallLogs.latency"))

    return {
      list,
      get,
      stats,
      latency,
      /** p95 turn latency (time to first audio) per version over the last `lookbackHours` (rollout governance). */
      versionTurnLatency: (tenantId: string, versionIds: ReadonlyArray<string>, lookbackHours: number) =>
        analytics.versionTurnLatency(tenantId, versionIds, lookbackHours)
    } as const
  }),
  dependencies: [
    CallLogsRepo.Default,
    CallAnalyticsRepo.Default,
    CallLatencyRepo.Default,
    CallLatencyRollup.Default,
    LatencyReportCache.Default
  ]
}) {}
