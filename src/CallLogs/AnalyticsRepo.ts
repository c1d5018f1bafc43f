import { PgClient } from "@effect/sql-pg"
import { Effect, Schema } from "effect"
import { orUnavailable } from "../Database/Errors.js"

const Count = Schema.Number
const Ms = Schema.NullOr(Schema.Number)

/** A version's turn latency samples over a window. */
export interface VersionTurnLatency {
  readonly agent_version_id: string
  readonly latency_samples: number
  readonly p95_turn_latency_ms: number | null
}

export const StatsRow = Schema.Struct({
  total_calls: Count,
  completed_calls: Count,
  escalated_calls: Count,
  failed_calls: Count,
  answered_calls: Count,
  voicemail_calls: Count,
  no_answer_calls: Count,
  busy_calls: Count,
  failed_outcome_calls: Count,
  outcome_calls: Count,
  calls_last_24h: Count,
  avg_duration_seconds: Ms
})

const percentileColumns = {
  p50_llm_first_token_ms: Ms,
  p95_llm_first_token_ms: Ms,
  p99_llm_first_token_ms: Ms,
  p50_e2e_first_audio_ms: Ms,
  p95_e2e_first_audio_ms: Ms,
  p99_e2e_first_audio_ms: Ms
}

export const LatencyRow = Schema.Struct({
  call_sample_count: Count,
  turn_sample_count: Count,
  avg_llm_first_token_ms: Ms,
  avg_e2e_first_audio_ms: Ms,
  max_llm_first_token_ms: Ms,
  max_e2e_first_audio_ms: Ms,
  ...percentileColumns
})

export const SlowCallRow = Schema.Struct({
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
})

export const BucketRow = Schema.Struct({ bucket_start: Schema.String, call_count: Count, ...percentileColumns })

const LatencyReport = Schema.Struct({
  stats: LatencyRow,
  slowest: Schema.Array(SlowCallRow),
  points: Schema.Array(BucketRow)
})

/**
 * Aggregates over `call_logs`. Stats read the rollups (migration 0010: the all-time row, the hours of the last day) plus the partial
 * hour at the start of the 24h window from the table. Latency reads each call's `turn_latency_stats.summary`
 * (per-call avg/p50/p95/p99/max) and aggregates those across calls with
 * `percentile_cont`: p95 is the p95 of the per-call p95s, as the spec describes.
 */
export class CallAnalyticsRepo extends Effect.Service<CallAnalyticsRepo>()("CallAnalyticsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient

    const stats = (tenantId: string, since24h: Date) =>
      orUnavailable(
        sql`with since as (select ${since24h}::timestamptz as at, ssv_hour_ceil(${since24h}::timestamptz) as hour),
          totals as (
            select coalesce(sum(total), 0)::int8 as total_calls, coalesce(sum(completed), 0)::int8 as completed_calls,
              coalesce(sum(escalated), 0)::int8 as escalated_calls, coalesce(sum(failed), 0)::int8 as failed_calls,
              coalesce(sum(answered), 0)::int8 as answered_calls, coalesce(sum(voicemail), 0)::int8 as voicemail_calls,
              coalesce(sum(no_answer), 0)::int8 as no_answer_calls, coalesce(sum(busy), 0)::int8 as busy_calls,
              coalesce(sum(failed_outcome), 0)::int8 as failed_outcome_calls,
              coalesce(sum(outcome_calls), 0)::int8 as outcome_calls,
              -- avg(integer) is numeric sum / count, then float8: the same arithmetic
              (sum(duration_sum)::numeric / nullif(sum(duration_count), 0))::float8 as avg_duration_seconds
            from call_log_hourly where tenant_id = ${tenantId} and hour = '-infinity')
          select totals.*,
            (select coalesce(sum(h.total), 0) from call_log_hourly h, since
              where h.tenant_id = ${tenantId} and h.hour >= since.hour)::int8
            + (select count(*) from call_logs c, since
              where c.tenant_id = ${tenantId} and c.started_at >= since.at and c.started_at < since.hour) as calls_last_24h
          from totals`.pipe(
          Effect.flatMap(Schema.decodeUnknown(Schema.Array(StatsRow))),
          Effect.map((rows) => rows[0]!)
        )
      )

    /** One row per call with turn latency samples in the window. */
    const perCall = (tenantId: string, since: Date | null) =>
      sql`select id, call_sid, stream_sid, started_at, duration_seconds, model, voice,
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
            and ${since === null ? sql`true` : sql`started_at >= ${since}`}`

    const percentiles = sql`
      percentile_cont(0.5) within group (order by llm_p50) as p50_llm_first_token_ms,
      percentile_cont(0.95) within group (order by llm_p95) as p95_llm_first_token_ms,
      percentile_cont(0.99) within group (order by llm_p99) as p99_llm_first_token_ms,
      percentile_cont(0.5) within group (order by e2e_p50) as p50_e2e_first_audio_ms,
      percentile_cont(0.95) within group (order by e2e_p95) as p95_e2e_first_audio_ms,
      percentile_cont(0.99) within group (order by e2e_p99) as p99_e2e_first_audio_ms`

    /**
     * Window stats, the slowest calls and the timeseries in one statement: the per-call rows
     * are read once (a CTE used three times is materialized) and come back as JSON.
     */
    const latency = (tenantId: string, since: Date | null, limit: number, bucket: "hour" | "day") =>
      orUnavailable(
        sql`with calls as (${perCall(tenantId, since)}),
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
              order by bucket) from points), '[]') as points`.pipe(
          Effect.flatMap(Schema.decodeUnknown(Schema.Array(LatencyReport))),
          Effect.map((rows) => rows[0]!)
        )
      )

    /** Per version: p95 of every turn's time to first audio, over calls whose media ended in the window (governance). */
    const versionTurnLatency = (tenantId: string, versionIds: ReadonlyArray<string>, lookbackHours: number) =>
      versionIds.length === 0 ? Effect.succeed([]) : orUnavailable(sql<VersionTurnLatency>`
        select c.agent_version_id::text as agent_version_id, count(*)::int as latency_samples,
          (percentile_cont(0.95) within group (order by (s->>'e2e_first_audio_ms')::float8))::float8 as p95_turn_latency_ms
        from call_logs c, jsonb_array_elements(coalesce(c.turn_latency_stats->'samples', '[]'::jsonb)) s
        where c.tenant_id = ${tenantId} and c.agent_version_id in ${sql.in(versionIds)}
          and c.media_ended_at >= now() - make_interval(hours => ${lookbackHours})
          and jsonb_typeof(s->'e2e_first_audio_ms') = 'number'
        group by c.agent_version_id`)

    return { stats, latency, versionTurnLatency } as const
  })
}) {}
