import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { orUnavailable } from "../Database/Errors.js"

/** What a version's calls over a window came to (canary and baseline are read the same way). */
export interface VersionSignals {
  readonly calls: number
  readonly escalation_rate: number | null
  readonly failure_rate: number | null
  readonly abandonment_rate: number | null
  readonly auto_evals: number
  readonly auto_avg_score: number | null
  readonly manual_evals: number
  readonly manual_avg_score: number | null
  readonly latency_samples: number
  readonly p95_turn_latency_ms: number | null
}

/** How much worse than its baseline a canary may be (columns of the policy, migration 0017). */
export interface ComparisonLimits {
  readonly max_score_drop: number
  readonly max_escalation_rate_increase: number
  readonly max_failure_rate_increase: number
  readonly max_abandonment_rate_increase: number
  readonly max_p95_latency_increase_ms: number
}

export const DEFAULT_LIMITS: ComparisonLimits = {
  max_score_drop: 0.05,
  max_escalation_rate_increase: 0.05,
  max_failure_rate_increase: 0.05,
  max_abandonment_rate_increase: 0.05,
  max_p95_latency_increase_ms: 500
}

/**
 * Read-only aggregates over the records calls leave (outcomes, evals, call logs) for
 * governance: one query per version, over the policy's look-back window.
 */
export class GovernanceSignals extends Effect.Service<GovernanceSignals>()("GovernanceSignals", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const limits = (tenantId: string, agentId: string) =>
      orUnavailable(sql<ComparisonLimits>`
        select max_score_drop, max_escalation_rate_increase, max_failure_rate_increase, max_abandonment_rate_increase,
          max_p95_latency_increase_ms from rollout_governance_policies where tenant_id = ${tenantId} and agent_id = ${agentId}`)
        .pipe(Effect.map((rows) => rows[0] ?? DEFAULT_LIMITS))

    const of = (tenantId: string, versionId: string, lookbackHours: number) =>
      orUnavailable(sql<VersionSignals>`
        with since as (select now() - make_interval(hours => ${lookbackHours}) as at),
        o as (
          select count(*)::int as calls,
            (avg(case when escalated or resolution = 'escalated' then 1.0 else 0.0 end))::float8 as escalation_rate,
            (avg(case when resolution = 'failed' then 1.0 else 0.0 end))::float8 as failure_rate,
            (avg(case when resolution = 'abandoned' then 1.0 else 0.0 end))::float8 as abandonment_rate
          from voice_outcomes, since
          where tenant_id = ${tenantId} and agent_version_id = ${versionId} and occurred_at >= since.at),
        e as (
          select count(*) filter (where source = 'auto')::int as auto_evals,
            (avg(score) filter (where source = 'auto'))::float8 as auto_avg_score,
            count(*) filter (where source is distinct from 'auto')::int as manual_evals,
            (avg(score) filter (where source is distinct from 'auto'))::float8 as manual_avg_score
          from voice_session_evals, since
          where tenant_id = ${tenantId} and agent_version_id = ${versionId} and created_at >= since.at),
        l as (
          select count(*)::int as latency_samples,
            (percentile_cont(0.95) within group (order by (s->>'e2e_first_audio_ms')::float8))::float8 as p95_turn_latency_ms
          from call_logs c, since, jsonb_array_elements(coalesce(c.turn_latency_stats->'samples', '[]'::jsonb)) s
          where c.tenant_id = ${tenantId} and c.agent_version_id = ${versionId} and c.media_ended_at >= since.at
            and jsonb_typeof(s->'e2e_first_audio_ms') = 'number')
        select * from o, e, l`).pipe(Effect.map((rows) => rows[0]!))

    return { limits, of } as const
  })
}) {}
