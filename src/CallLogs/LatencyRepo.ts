import { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"
import { orUnavailable } from "../Database/Errors.js"
import { makeExecute } from "../Database/HotStatement.js"
import { jsonArray, jsonObject } from "../Database/JsonObject.js"
import { compactJsonb } from "../Http/JsonbText.js"
import { LatencySample, LatencyStats, LatencyTimeseriesPoint } from "./Schemas.js"

/** The latency report's three parts, each the JSON its wire schema's encoder writes. */
export interface LatencyReportJson {
  readonly stats: string
  readonly slowest: string
  readonly points: string
}

const percentiles = `
  percentile_cont(0.5) within group (order by llm_p50) as p50_llm_first_token_ms,
  percentile_cont(0.95) within group (order by llm_p95) as p95_llm_first_token_ms,
  percentile_cont(0.99) within group (order by llm_p99) as p99_llm_first_token_ms,
  percentile_cont(0.5) within group (order by e2e_p50) as p50_e2e_first_audio_ms,
  percentile_cont(0.95) within group (order by e2e_p95) as p95_e2e_first_audio_ms,
  percentile_cont(0.99) within group (order by e2e_p99) as p99_e2e_first_audio_ms`

const percentileFields = {
  p50_e2e_first_audio_ms: "p50_e2e_first_audio_ms",
  p50_llm_first_token_ms: "p50_llm_first_token_ms",
  p95_e2e_first_audio_ms: "p95_e2e_first_audio_ms",
  p95_llm_first_token_ms: "p95_llm_first_token_ms",
  p99_e2e_first_audio_ms: "p99_e2e_first_audio_ms",
  p99_llm_first_token_ms: "p99_llm_first_token_ms"
}

// `window` is a reserved word: the stats column is named `window_name`.
const statsJson = jsonObject(LatencyStats.fields, {
  ...percentileFields,
  avg_e2e_first_audio_ms: "avg_e2e_first_audio_ms",
  avg_llm_first_token_ms: "avg_llm_first_token_ms",
  call_sample_count: "call_sample_count",
  max_e2e_first_audio_ms: "max_e2e_first_audio_ms",
  max_llm_first_token_ms: "max_llm_first_token_ms",
  turn_sample_count: "turn_sample_count",
  window: "window_name"
})

const sampleJson = jsonObject(LatencySample.fields, {
  call_sid: "c.call_sid",
  duration_seconds: "c.duration_seconds",
  e2e_p95_ms: "s.e2e_p95",
  id: "c.id",
  llm_p50_ms: "s.llm_p50",
  llm_p95_ms: "s.llm_p95",
  model: "c.model",
  started_at: "ssv_iso(c.started_at)",
  stream_sid: "c.stream_sid",
  turn_count: "s.turns",
  voice: "c.voice"
})

const pointJson = jsonObject(LatencyTimeseriesPoint.fields, {
  ...percentileFields,
  bucket_start: "ssv_iso(bucket)",
  call_count: "call_count"
})

/** Slowest first; the call's id last only makes full ties come out in one order. */
const slowestOrder = (from: string) =>
  `${from}e2e_p95 desc nulls last, ${from}llm_p95 desc nulls last, ${from}started_at desc, ${from}call_log_id`

const slowestJson = jsonArray(sampleJson, slowestOrder("s."))
const pointsJson = jsonArray(pointJson, "bucket")

/**
 * The call-logs/latency report: over a tenant's calls with turns in the window, the
 * percentiles of each call's own percentiles (the spec's p95 is the p95 of the per-call p95s),
 * the slowest calls and a series per hour or day. The per-call numbers come from
 * `call_log_latency` (migration 0034), read index-only; only the slowest calls' rows are read
 * from call_logs. PostgreSQL writes the three parts as JSON in the wire schemas' field order,
 * passed through as text (compacted as the encoder writes it), never decoded here.
 */
export class CallLatencyRepo extends Effect.Service<CallLatencyRepo>()("CallLatencyRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const execute = yield* makeExecute(sql)

    // One plan suits every tenant and window start (the window index's range), so the two
    // shapes (a window, all time) are prepared. The bound `<= 'infinity'` excludes nothing; it
    // makes the window a range, which a generic plan estimates at 0.5% of the rows (an open
    // `>= $2` alone is a third, and that plan read the whole table: 1,924 pages for 269 calls).
    const report = (tenantId: string, since: Date | null, limit: number, bucket: "hour" | "day", window: string) =>
      orUnavailable(execute.prepared(sql<LatencyReportJson>`with calls as materialized (
          select call_log_id, started_at, turns, llm_avg, llm_p50, llm_p95, llm_p99, llm_max,
            e2e_avg, e2e_p50, e2e_p95, e2e_p99, e2e_max
          from call_log_latency
          where tenant_id = ${tenantId} and ${since === null ? sql`true` : sql`started_at >= ${since} and started_at <= 'infinity'`}),
        stats as (
          select count(*) as call_sample_count, coalesce(sum(turns), 0)::int8 as turn_sample_count,
            avg(llm_avg)::float8 as avg_llm_first_token_ms, avg(e2e_avg)::float8 as avg_e2e_first_audio_ms,
            max(llm_max) as max_llm_first_token_ms, max(e2e_max) as max_e2e_first_audio_ms,
            ${sql.literal(percentiles)}, ${window}::text as window_name
          from calls),
        slowest as (select * from calls order by ${sql.literal(slowestOrder(""))} limit ${limit}),
        points as (
          select date_trunc(${bucket}::text, started_at, 'UTC') as bucket, count(*) as call_count, ${sql.literal(percentiles)}
          from calls group by 1)
        select (select ${sql.literal(statsJson)} from stats)::text as stats,
          (select ${sql.literal(slowestJson)}
            from slowest s join call_logs c on c.id = s.call_log_id and c.tenant_id = ${tenantId})::text as slowest,
          (select ${sql.literal(pointsJson)} from points)::text as points`)).pipe(
        Effect.map((rows): LatencyReportJson => {
          const row = rows[0]!
          return { stats: compactJsonb(row.stats), slowest: compactJsonb(row.slowest), points: compactJsonb(row.points) }
        })
      )

    return { report } as const
  })
}) {}
