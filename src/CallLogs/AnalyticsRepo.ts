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

/**
 * Aggregates over `call_logs`. Stats read the rollups (migration 0010: the all-time row, the hours of the last day) plus the partial
 * hour at the start of the 24h window from the table. The latency report is LatencyRepo.ts.
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

    return { stats, versionTurnLatency } as const
  })
}) {}
