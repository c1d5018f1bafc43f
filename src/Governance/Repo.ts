import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import { Effect, Schema } from "effect"
import { orUnavailable } from "../Database/Errors.js"
import { RolloutGovernancePolicy, type UpsertRolloutGovernancePolicy } from "./Schemas.js"
import type { PolicyLimits } from "./Signals.js"

export interface GovernanceAction {
  readonly id: string
  /** A rollback moves a canary's traffic to the baseline; a promotion moves the baseline's to the canary. */
  readonly kind: "rollback" | "promotion"
  readonly tenantId: string
  readonly agentId: string
  readonly fromVersionId: string
  readonly toVersionId: string
  readonly movedPercentage: number
  readonly reasons: ReadonlyArray<string>
  readonly actor: string
  /** The numbers that drove it (canary and baseline signals, limits). */
  readonly metadata: unknown
}

const TenantAgent = Schema.Struct({ tenantId: Schema.String, agentId: Schema.String })

/** SQL for `rollout_governance_policies` and `rollout_governance_actions`. */
export class GovernanceRepo extends Effect.Service<GovernanceRepo>()("GovernanceRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const find = SqlSchema.findOne({
      Request: TenantAgent,
      Result: RolloutGovernancePolicy,
      execute: ({ agentId, tenantId }) =>
        sql`select * from rollout_governance_policies where tenant_id = ${tenantId} and agent_id = ${agentId}`
    })

    const upsert = (tenantId: string, agentId: string, p: UpsertRolloutGovernancePolicy) =>
      sql`insert into rollout_governance_policies
            (agent_id, tenant_id, enabled, lookback_hours, min_eval_count, min_avg_score, min_high_quality_rate)
          values (${agentId}, ${tenantId}, ${p.enabled}, ${p.lookback_hours}, ${p.min_eval_count}, ${p.min_avg_score},
            ${p.min_high_quality_rate ?? null})
          on conflict (agent_id) do update set
            enabled = excluded.enabled, lookback_hours = excluded.lookback_hours,
            min_eval_count = excluded.min_eval_count, min_avg_score = excluded.min_avg_score,
            min_high_quality_rate = excluded.min_high_quality_rate, updated_at = now()`

    /** Tenants with at least one enabled policy, in a stable order. */
    const tenantsWithPolicies = (limit: number) =>
      sql<{ tenant_id: string }>`select distinct tenant_id from rollout_governance_policies
        where enabled order by tenant_id limit ${limit}`.pipe(Effect.map((rows) => rows.map((row) => row.tenant_id)))

    const governedAgents = (tenantId: string) =>
      sql<{ agent_id: string }>`select agent_id from rollout_governance_policies
        where tenant_id = ${tenantId} and enabled order by agent_id`.pipe(
        Effect.map((rows) => rows.map((row) => row.agent_id))
      )

    /**
     * Claims an agent for this sweep inside the caller's transaction: the row lock keeps
     * other replicas off it until commit (they skip it), and `dueAfterSeconds` skips an
     * agent another replica swept recently. False when not claimed.
     */
    const claim = (tenantId: string, agentId: string, dueAfterSeconds: number | null) =>
      sql<{ agent_id: string }>`update rollout_governance_policies set last_swept_at = now()
        where agent_id = (
          select agent_id from rollout_governance_policies
          where tenant_id = ${tenantId} and agent_id = ${agentId} and enabled
            and ${
        dueAfterSeconds === null
          ? sql`true`
          : sql`(last_swept_at is null or last_swept_at <= now() - make_interval(secs => ${dueAfterSeconds}))`
      }
          for update skip locked)
        returning agent_id`.pipe(Effect.map((rows) => rows.length > 0))

    /** The policy's own canary-vs-baseline limits (null where it sets none). */
    const limits = (tenantId: string, agentId: string) =>
      sql<PolicyLimits>`select max_score_drop, max_escalation_rate_increase, max_failure_rate_increase,
          max_abandonment_rate_increase, max_p95_latency_increase_ms
        from rollout_governance_policies where tenant_id = ${tenantId} and agent_id = ${agentId}`.pipe(
        Effect.map((rows) => rows[0])
      )

    const recordAction = (action: GovernanceAction) =>
      sql`insert into rollout_governance_actions
            (id, kind, tenant_id, agent_id, from_version_id, to_version_id, moved_percentage, reasons, actor, metadata)
          values (${action.id}, ${action.kind}, ${action.tenantId}, ${action.agentId}, ${action.fromVersionId}, ${action.toVersionId},
            ${action.movedPercentage}, ${JSON.stringify(action.reasons)}::jsonb, ${action.actor},
            ${JSON.stringify(action.metadata ?? {})}::jsonb)`

    return {
      find: (tenantId: string, agentId: string) => orUnavailable(find({ tenantId, agentId })),
      upsert: (tenantId: string, agentId: string, policy: UpsertRolloutGovernancePolicy) =>
        orUnavailable(Effect.asVoid(upsert(tenantId, agentId, policy))),
      tenantsWithPolicies: (limit: number) => orUnavailable(tenantsWithPolicies(limit)),
      governedAgents: (tenantId: string) => orUnavailable(governedAgents(tenantId)),
      claim: (tenantId: string, agentId: string, dueAfterSeconds: number | null) =>
        orUnavailable(claim(tenantId, agentId, dueAfterSeconds)),
      limits: (tenantId: string, agentId: string) => orUnavailable(limits(tenantId, agentId)),
      recordAction: (action: GovernanceAction) => orUnavailable(Effect.asVoid(recordAction(action)))
    } as const
  })
}) {}
