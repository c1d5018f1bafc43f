import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import {
  CallLatencyResponse,
  LatencySample,
  LatencyStats,
  LatencyTimeseries,
  LatencyTimeseriesPoint
} from "../../src/CallLogs/Schemas.js"

/**
 * The latency report as it was computed before migration 0034: every number read out of each
 * call's `turn_latency_stats` jsonb in call_logs, the rows decoded with Schema and the response
 * encoded by its schema (the statement and the mapping of src/CallLogs at beba020).
 */

const Ms = Schema.NullOr(Schema.Number)
const percentileColumns = {
  p50_llm_first_token_ms: Ms,
  p95_llm_first_token_ms: Ms,
  p99_llm_first_token_ms: Ms,
  p50_e2e_first_audio_ms: Ms,
  p95_e2e_first_audio_ms: Ms,
  p99_e2e_first_audio_ms: Ms
}
const Report = Schema.Struct({
  stats: Schema.Struct({
    call_sample_count: Schema.Number,
    turn_sample_count: Schema.Number,
    avg_llm_first_token_ms: Ms,
    avg_e2e_first_audio_ms: Ms,
    max_llm_first_token_ms: Ms,
    max_e2e_first_audio_ms: Ms,
    ...percentileColumns
  }),
  slowest: Schema.Array(Schema.Struct({
    id: Schema.String,
    call_sid: Schema.NullOr(Schema.String),
    stream_sid: Schema.NullOr(Schema.String),
    started_at: Schema.String,
    duration_seconds: Ms,
    model: Schema.NullOr(Schema.String),
    voice: Schema.NullOr(Schema.String),
    turn_count: Ms,
    llm_p50_ms: Ms,
    llm_p95_ms: Ms,
    e2e_p95_ms: Ms
  })),
  points: Schema.Array(Schema.Struct({ bucket_start: Schema.String, call_count: Schema.Number, ...percentileColumns }))
})

export const latencyReport = (tenantId: string, window: string, since: Date | null, limit: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const bucket = window === "24h" ? "hour" : "day"
    const percentiles = sql`
      percentile_cont(0.5) within group (order by llm_p50) as p50_llm_first_token_ms,
      percentile_cont(0.95) within group (order by llm_p95) as p95_llm_first_token_ms,
      percentile_cont(0.99) within group (order by llm_p99) as p99_llm_first_token_ms,
      percentile_cont(0.5) within group (order by e2e_p50) as p50_e2e_first_audio_ms,
      percentile_cont(0.95) within group (order by e2e_p95) as p95_e2e_first_audio_ms,
      percentile_cont(0.99) within group (order by e2e_p99) as p99_e2e_first_audio_ms`
    const rows = yield* sql`with calls as (select id, call_sid, stream_sid, started_at, duration_seconds, model, voice,
            (turn_latency_stats->>'turns')::int as turns,
            (turn_latency_stats#>>'{summary,llm_first_token_ms,avg}')::float8 as llm_avg,
            (turn_latency_stats#>>'{summary,llm_first_token_ms,p50}')::float8 as llm_p50,
            (turn_latency_stats#>>'{summary,llm_first_token_ms,p95}')::float8 as llm_p95,
            (turn_latency_stats#>>'{summary,llm_first_token_ms,p99}')::float8 as llm_p99,
            (turn_latency_stats#>>'{summary,llm_first_token_ms,max}')::float8 as llm_max,
            (turn_latency_stats#>>'{summary,e2e_first_audio_ms,avg}')::float8 as e2e_avg,
            (turn_latency_stats#>>'{summary,e2e_first_audio_ms,p50}')::float8 as e2e_p50,
            (turn_latency_stats#>>'{summary,e2e_first_audio_ms,p95}')::float8 as e2e_p95,
            (turn_latency_stats#>>'{summary,e2e_first_audio_ms,p99}')::float8 as e2e_p99,
            (turn_latency_stats#>>'{summary,e2e_first_audio_ms,max}')::float8 as e2e_max
          from call_logs
          where tenant_id = ${tenantId} and (turn_latency_stats->>'turns')::int > 0
            and ${since === null ? sql`true` : sql`started_at >= ${since}`}),
          stats as (
            select count(*) as call_sample_count, coalesce(sum(turns), 0)::int8 as turn_sample_count,
              avg(llm_avg)::float8 as avg_llm_first_token_ms, avg(e2e_avg)::float8 as avg_e2e_first_audio_ms,
              max(llm_max) as max_llm_first_token_ms, max(e2e_max) as max_e2e_first_audio_ms, ${percentiles}
            from calls),
          slowest as (
            select id, call_sid, stream_sid, ssv_iso(started_at) as started_at, duration_seconds, model, voice,
              turns as turn_count, llm_p50 as llm_p50_ms, llm_p95 as llm_p95_ms, e2e_p95 as e2e_p95_ms
            from calls order by e2e_p95 desc nulls last, llm_p95 desc nulls last, calls.started_at desc
            limit ${limit}),
          points as (
            select date_trunc(${bucket}, started_at, 'UTC') as bucket, count(*) as call_count, ${percentiles}
            from calls group by 1)
          select (select row_to_json(stats) from stats) as stats,
            coalesce((select json_agg(slowest) from slowest), '[]') as slowest,
            coalesce((select json_agg(json_build_object('bucket_start', ssv_iso(bucket), 'call_count', call_count,
              'p50_llm_first_token_ms', p50_llm_first_token_ms, 'p95_llm_first_token_ms', p95_llm_first_token_ms,
              'p99_llm_first_token_ms', p99_llm_first_token_ms, 'p50_e2e_first_audio_ms', p50_e2e_first_audio_ms,
              'p95_e2e_first_audio_ms', p95_e2e_first_audio_ms, 'p99_e2e_first_audio_ms', p99_e2e_first_audio_ms)
              order by bucket) from points), '[]') as points`
    const report = yield* Schema.decodeUnknown(Report)(rows[0])
    const response = new CallLatencyResponse({
      ok: true,
      tenant: tenantId,
      stats: new LatencyStats({ ...report.stats, window }),
      slowest: report.slowest.map((row) => new LatencySample({ ...row, started_at: new Date(row.started_at) })),
      timeseries: new LatencyTimeseries({
        window,
        bucket,
        points: report.points.map((point) => new LatencyTimeseriesPoint({ ...point, bucket_start: new Date(point.bucket_start) }))
      })
    })
    return JSON.stringify(yield* Schema.encode(CallLatencyResponse)(response))
  })
