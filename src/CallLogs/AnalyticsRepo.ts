import { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"
import { orUnavailable } from "../Database/Errors.js"
import { makeExecute } from "../Database/HotStatement.js"
import { jsonObject } from "../Database/JsonObject.js"
import { compactJsonb } from "../Http/JsonbText.js"
import { CallStats } from "./Schemas.js"

/** A version's turn latency samples over a window. */
export interface VersionTurnLatency {
  readonly agent_version_id: string
  readonly latency_samples: number
  readonly p95_turn_latency_ms: number | null
}

/**
 * The tenant's call counts: all time from the rollup's all-time row (migration 0010), the last
 * 24h from the hours' rows plus the partial hour at the window's start read from the table. One
 * row of plain columns; `outcome_calls` is the answer rate's denominator.
 */
export const callStatsRow = (sql: PgClient.PgClient, tenantId: string, since24h: Date) =>
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
    from totals`

/** CallStats from that row, as JSON in the wire schema's field order. */
const callStatsJson = jsonObject(CallStats.fields, {
  // What the handler computed: null without outcomes, else a float8 division (IEEE, as JavaScript's).
  answer_rate: "case when s.outcome_calls = 0 then null else s.answered_calls::float8 / s.outcome_calls::float8 end",
  answered_calls: "s.answered_calls",
  avg_duration_seconds: "s.avg_duration_seconds",
  busy_calls: "s.busy_calls",
  calls_last_24h: "s.calls_last_24h",
  completed_calls: "s.completed_calls",
  escalated_calls: "s.escalated_calls",
  failed_calls: "s.failed_calls",
  failed_outcome_calls: "s.failed_outcome_calls",
  no_answer_calls: "s.no_answer_calls",
  total_calls: "s.total_calls",
  voicemail_calls: "s.voicemail_calls"
})

/**
 * Aggregates over `call_logs`. Stats read the rollups (`callStatsRow`); PostgreSQL writes them as
 * the wire schema's JSON, passed through as text, never decoded here. The latency report is LatencyRepo.ts.
 */
export class CallAnalyticsRepo extends Effect.Service<CallAnalyticsRepo>()("CallAnalyticsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const execute = yield* makeExecute(sql)

    // Prepared: one shape, and its plan (the tenant's rollup rows, one index range of calls)
    // suits every tenant.
    const stats = (tenantId: string, since24h: Date) =>
      orUnavailable(execute.prepared(sql<{ readonly stats: string }>`
        select ${sql.literal(callStatsJson)}::text as stats from (${callStatsRow(sql, tenantId, since24h)}) s`)).pipe(
        Effect.map((rows) => compactJsonb(rows[0]!.stats))
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
