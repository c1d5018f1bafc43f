import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Option } from "effect"
import type { AgentRow } from "../Agents/Repo.js"
import { orUnavailable } from "../Database/Errors.js"
import { Ids } from "../Ids.js"
import { Rollouts, type SplitState } from "../Rollouts/Rollouts.js"
import { GovernanceRepo } from "./Repo.js"
import { planRollback } from "./Rules.js"

export interface Promotion {
  readonly canaryId: string
  readonly baselineId: string
  /** The split the decision was made on: promotion applies only if it is still the split. */
  readonly expected: ReadonlyArray<{ readonly agent_version_id: string; readonly traffic_percentage: number }>
  readonly movedPercentage: number
  readonly reasons: ReadonlyArray<string>
  readonly actor: string
  readonly metadata: unknown
}

/**
 * The canary takes 100% and becomes the published version, the baseline leaves the split
 * (versions already at 0% stay listed); None unless the agent still publishes the baseline and
 * the split is still the one judged (e.g. another replica promoted it first).
 */
export const planPromotion = (state: SplitState, p: Promotion) => {
  const unchanged = state.publishedVersionId === p.baselineId && state.split.length === p.expected.length &&
    state.split.every((w, i) =>
      w.agent_version_id === p.expected[i]!.agent_version_id && w.traffic_percentage === p.expected[i]!.traffic_percentage
    )
  if (!unchanged) return Option.none()
  return Option.some({
    entries: state.split.filter((w) => w.agent_version_id !== p.baselineId).map((w) => ({
      agentVersionId: w.agent_version_id,
      trafficPercentage: w.agent_version_id === p.canaryId ? 100 : 0
    })),
    publish: p.canaryId,
    result: true as const
  })
}

/**
 * What governance applies: rollbacks and promotions, each decided again on the split under the
 * agent row lock (Rollouts.rewriteUnderLock) and recorded in `rollout_governance_actions` in the
 * same transaction.
 */
export class GovernanceActions extends Effect.Service<GovernanceActions>()("GovernanceActions", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rollouts = yield* Rollouts
    const repo = yield* GovernanceRepo
    const ids = yield* Ids

    /** Moves failing versions' traffic to the published version; the moves made (none if another evaluation already moved it). */
    const rollBack = (
      agent: AgentRow,
      failing: ReadonlySet<string>,
      reasons: Map<string, Array<string>>,
      actor: string,
      metadata: Map<string, unknown>
    ) =>
      orUnavailable(sql.withTransaction(Effect.gen(function*() {
        const applied = yield* rollouts.rewriteUnderLock(agent.tenant_id, agent.id, ({ publishedVersionId, split }) => {
          if (publishedVersionId === null) return Option.none()
          const plan = planRollback(
            split.map((w) => ({ agentVersionId: w.agent_version_id, trafficPercentage: w.traffic_percentage })),
            failing,
            publishedVersionId
          )
          return plan === undefined
            ? Option.none()
            : Option.some({ entries: plan.entries, publish: null, result: { publishedVersionId, moves: plan.moves } })
        })
        if (Option.isNone(applied)) return []
        const { moves, publishedVersionId } = applied.value
        for (const move of moves) {
          yield* repo.recordAction({
            id: yield* ids.uuid,
            kind: "rollback",
            tenantId: agent.tenant_id,
            agentId: agent.id,
            fromVersionId: move.fromVersionId,
            toVersionId: publishedVersionId,
            movedPercentage: move.percentage,
            reasons: reasons.get(move.fromVersionId) ?? [],
            actor,
            metadata: metadata.get(move.fromVersionId) ?? {}
          })
        }
        return moves.map((move) => ({ ...move, toVersionId: publishedVersionId }))
      })))

    /** Promotes the canary and records it, in one transaction; false when the split or baseline changed first. */
    const promote = (agent: AgentRow, p: Promotion) =>
      orUnavailable(sql.withTransaction(Effect.gen(function*() {
        const promoted = yield* rollouts.rewriteUnderLock(agent.tenant_id, agent.id, (state) => planPromotion(state, p))
        if (Option.isNone(promoted)) return false
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
  dependencies: [Rollouts.Default, GovernanceRepo.Default]
}) {}
