import { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"
import type { AgentRow } from "../Agents/Repo.js"
import { AgentsRepo } from "../Agents/Repo.js"
import { orUnavailable } from "../Database/Errors.js"
import { Ids } from "../Ids.js"
import { RolloutsRepo } from "../Rollouts/Repo.js"
import { Rollouts } from "../Rollouts/Rollouts.js"
import { GovernanceRepo } from "./Repo.js"
import { planRollback } from "./Rules.js"

/**
 * What governance applies: rollbacks and promotions, each in one transaction with the
 * `rollout_governance_actions` row that records it, under the agent row lock.
 */
export class GovernanceActions extends Effect.Service<GovernanceActions>()("GovernanceActions", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const agentsRepo = yield* AgentsRepo
    const rollouts = yield* RolloutsRepo
    const rolloutsService = yield* Rollouts
    const repo = yield* GovernanceRepo
    const ids = yield* Ids

    /**
     * Moves failing versions' traffic to the published version; the moves made (none if
     * another evaluation already moved it). Split and published version are re-read under the lock.
     */
    const rollBack = (
      agent: AgentRow,
      failing: ReadonlySet<string>,
      reasons: Map<string, Array<string>>,
      actor: string,
      metadata: Map<string, unknown>
    ) =>
      orUnavailable(sql.withTransaction(Effect.gen(function*() {
        const locked = yield* agentsRepo.findForUpdate(agent.tenant_id, agent.id)
        const publishedId = Option.isSome(locked) ? locked.value.published_version_id : null
        if (publishedId === null) return []
        const current = yield* rollouts.weights(agent.tenant_id, agent.id)
        const plan = planRollback(
          current.map((w) => ({ agentVersionId: w.agent_version_id, trafficPercentage: w.traffic_percentage })),
          failing,
          publishedId
        )
        if (plan === undefined) return []
        yield* rollouts.replace(
          agent.tenant_id,
          agent.id,
          yield* Effect.forEach(plan.entries, (e) => Effect.map(ids.uuid, (id) => ({ id, ...e })))
        )
        for (const move of plan.moves) {
          yield* repo.recordAction({
            id: yield* ids.uuid,
            kind: "rollback",
            tenantId: agent.tenant_id,
            agentId: agent.id,
            fromVersionId: move.fromVersionId,
            toVersionId: publishedId,
            movedPercentage: move.percentage,
            reasons: reasons.get(move.fromVersionId) ?? [],
            actor,
            metadata: metadata.get(move.fromVersionId) ?? {}
          })
        }
        return plan.moves.map((move) => ({ ...move, toVersionId: publishedId }))
      })))

    /** Promotes the canary and records it, in one transaction; false when the split or baseline changed first. */
    const promote = (
      agent: AgentRow,
      p: {
        readonly canaryId: string
        readonly baselineId: string
        readonly expected: ReadonlyArray<{ readonly agent_version_id: string; readonly traffic_percentage: number }>
        readonly movedPercentage: number
        readonly reasons: ReadonlyArray<string>
        readonly actor: string
        readonly metadata: unknown
      }
    ) =>
      orUnavailable(sql.withTransaction(Effect.gen(function*() {
        const promoted = yield* rolloutsService.promote(agent.tenant_id, agent.id, p)
        if (!promoted) return false
        yield* repo.recordAction({
          id: yield* ids.uuid,
          kind: "promotion",
          tenantId: agent.tenant_id,
          agentId: agent.id,
          fromVersionId: p.baselineId,
          toVersionId: p.canaryId,
          movedPercentage: p.movedPercentage,
          reasons: p.reasons,
          actor: p.actor,
          metadata: p.metadata
        })
        return true
      })))

    return { rollBack, promote } as const
  }),
  dependencies: [AgentsRepo.Default, RolloutsRepo.Default, Rollouts.Default, GovernanceRepo.Default]
}) {}
