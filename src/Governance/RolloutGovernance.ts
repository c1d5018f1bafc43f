import { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"
import { orUnavailable } from "../Database/Errors.js"
import { VoiceSessionEvals } from "../VoiceEvals/VoiceSessionEvals.js"
import { Agents } from "../Agents/Agents.js"
import type { AgentRow } from "../Agents/Repo.js"
import { AgentsRepo } from "../Agents/Repo.js"
import { GovernanceRepo } from "./Repo.js"
import { DEFAULT_THRESHOLDS, judge, planRollback, type Thresholds } from "./Rules.js"
import {
  AgentVersionEvalStats,
  type RolloutGovernancePolicy,
  RolloutGovernanceEvaluation,
  RolloutGovernanceVersionEvaluation,
  type UpsertRolloutGovernancePolicy
} from "./Schemas.js"
import { RolloutsRepo } from "../Rollouts/Repo.js"
import { Ids } from "../Ids.js"
import { AgentCache } from "../Agents/AgentCache.js"
import { type Comparison, compareCanary } from "./Comparison.js"
import { GovernanceSignals } from "./Signals.js"

const thresholdsOf = (policy: RolloutGovernancePolicy): Thresholds => ({
  lookbackHours: policy.lookback_hours,
  minEvalCount: policy.min_eval_count,
  minAvgScore: policy.min_avg_score,
  minHighQualityRate: policy.min_high_quality_rate ?? null
})

const noEvals = { eval_count: 0, avg_score: null, high_quality_rate: null, last_eval_at: null }

/**
 * Judges an agent's rollout by recent session evals: every version in the rollout (and the
 * published one) gets its eval count, average score, high-quality rate and a status. With
 * `apply`, an enabled policy moves the traffic of failing versions to the published
 * version under the agent row lock, re-reading the split there, so concurrent evaluations
 * (two replicas, or a sweep and an admin) move it once; each move is recorded.
 */
export class RolloutGovernance extends Effect.Service<RolloutGovernance>()("RolloutGovernance", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const agents = yield* Agents
    const agentsRepo = yield* AgentsRepo
    const rollouts = yield* RolloutsRepo
    const repo = yield* GovernanceRepo
    const evals = yield* VoiceSessionEvals
    const ids = yield* Ids
    const signals = yield* GovernanceSignals
    const agentCache = yield* AgentCache

    const getPolicy = Effect.fn("RolloutGovernance.getPolicy")(function*(tenantId: string, agentId: string) {
      yield* agents.tenantExists(tenantId)
      const agent = yield* agents.agent(tenantId, agentId)
      return Option.getOrNull(yield* repo.find(tenantId, agent.id))
    })

    const upsertPolicy = Effect.fn("RolloutGovernance.upsertPolicy")(
      function*(tenantId: string, agentId: string, policy: UpsertRolloutGovernancePolicy) {
        yield* agents.tenantExists(tenantId)
        const agent = yield* agents.agent(tenantId, agentId)
        yield* repo.upsert(tenantId, agent.id, policy)
        return Option.getOrNull(yield* repo.find(tenantId, agent.id))
      }
    )

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
      })).pipe(Effect.ensuring(agentCache.evict(agent.tenant_id))))

    const evaluate = Effect.fn("RolloutGovernance.evaluate")(
      function*(tenantId: string, agentId: string, options: { readonly apply: boolean; readonly actor: string }) {
        yield* agents.tenantExists(tenantId)
        const agent = yield* agents.agent(tenantId, agentId)
        const policy = Option.getOrNull(yield* repo.find(tenantId, agent.id))
        const thresholds = policy === null ? DEFAULT_THRESHOLDS : thresholdsOf(policy)
        const entries = yield* rollouts.list(tenantId, agent.id)
        const publishedId = agent.published_version_id
        const published = publishedId === null ? Option.none() : yield* agentsRepo.findVersion(tenantId, publishedId)
        const ids = [...new Set([...entries.map((e) => e.agent_version_id), ...(publishedId === null ? [] : [publishedId])])]
        const stats = new Map((yield* evals.versionStats(tenantId, ids, thresholds.lookbackHours)).map((s) => [s.agent_version_id, s]))

        // Each canary (a version with traffic other than the published one) against the published
        // version, its baseline, over the same window.
        const comparisons = new Map<string, Comparison>()
        if (publishedId !== null) {
          const canaries = entries.filter((e) => e.agent_version_id !== publishedId && e.traffic_percentage > 0)
          if (canaries.length > 0) {
            const limits = yield* signals.limits(tenantId, agent.id)
            const baseline = yield* signals.of(tenantId, publishedId, thresholds.lookbackHours)
            for (const canary of canaries) {
              const figures = yield* signals.of(tenantId, canary.agent_version_id, thresholds.lookbackHours)
              comparisons.set(canary.agent_version_id, compareCanary(figures, baseline, limits, thresholds.minEvalCount))
            }
          }
        }
        const judgeAll = (list: typeof entries) =>
          list.map((entry) => {
            const figures = stats.get(entry.agent_version_id) ?? noEvals
            const judged = judge(figures, thresholds)
            const comparison = comparisons.get(entry.agent_version_id)
            if (comparison === undefined) return { entry, figures, ...judged }
            const status = comparison.decision === "rollback"
              ? "failing" as const
              : comparison.decision === "hold" && judged.status === "healthy"
              ? "insufficient_data" as const
              : judged.status
            return { entry, figures, status, reasons: [...judged.reasons, ...comparison.reasons] }
          })
        const judged = judgeAll(entries)
        const failing = judged.filter((j) =>
          j.status === "failing" && j.entry.traffic_percentage > 0 && j.entry.agent_version_id !== publishedId
        )
        const reasons: Array<string> = failing.map((j) => `version ${j.entry.version_number} is failing: ${j.reasons.join("; ")}`)
        if (policy === null) reasons.push("no rollout governance policy; evaluated against the defaults, nothing is applied")
        else if (!policy.enabled) reasons.push("the rollout governance policy is disabled; nothing is applied")
        if (failing.length > 0 && publishedId === null) reasons.push("no published version to move traffic to")

        let applied = false
        const canApply = options.apply && policy !== null && policy.enabled && publishedId !== null && failing.length > 0
        let finalEntries = entries
        if (canApply) {
          const moves = yield* rollBack(
            agent,
            new Set(failing.map((j) => j.entry.agent_version_id)),
            new Map(failing.map((j) => [j.entry.agent_version_id, j.reasons])),
            options.actor,
            new Map([...comparisons].map(([id, c]) => [id, { decision: c.decision, ...c.numbers }]))
          )
          applied = moves.length > 0
          if (applied) finalEntries = yield* rollouts.list(tenantId, agent.id)
          const numbers = new Map(entries.map((e) => [e.agent_version_id, e.version_number]))
          for (const move of moves) {
            reasons.push(
              `moved ${move.percentage}% of traffic from version ${numbers.get(move.fromVersionId)} to the published version`
            )
            yield* Effect.logInfo("rollout governance rollback applied").pipe(
              Effect.annotateLogs({
                tenant_id: tenantId,
                agent_id: agent.id,
                from_version_id: move.fromVersionId,
                to_version_id: move.toVersionId,
                moved_percentage: move.percentage,
                actor: options.actor
              })
            )
          }
        }

        const publishedFigures = publishedId === null ? noEvals : stats.get(publishedId) ?? noEvals
        return new RolloutGovernanceEvaluation({
          agent_id: agent.id,
          agent_key: agent.agent_key,
          agent_name: agent.name,
          applied,
          policy,
          status: policy === null
            ? "no_policy"
            : !policy.enabled
            ? "disabled"
            : failing.length > 0
            ? "failing"
            : judged.some((j) => j.status === "insufficient_data" && j.entry.traffic_percentage > 0)
            ? "insufficient_data"
            : "healthy",
          reasons,
          published_version: Option.match(published, {
            onNone: () => null,
            onSome: (version) =>
              new AgentVersionEvalStats({
                agent_version_id: version.id,
                agent_key: version.agent_key,
                agent_name: version.agent_name,
                version_number: version.version_number,
                ...publishedFigures,
                last_eval_at: publishedFigures.last_eval_at === null ? null : new Date(publishedFigures.last_eval_at)
              })
          }),
          rollout_versions: judgeAll(finalEntries).map((j) =>
            new RolloutGovernanceVersionEvaluation({
              agent_version_id: j.entry.agent_version_id,
              version_number: j.entry.version_number,
              traffic_percentage: j.entry.traffic_percentage,
              eval_count: j.figures.eval_count,
              avg_score: j.figures.avg_score,
              high_quality_rate: j.figures.high_quality_rate,
              last_eval_at: j.figures.last_eval_at === null ? null : new Date(j.figures.last_eval_at),
              status: j.status,
              reasons: j.reasons
            })
          )
        })
      }
    )

    return { getPolicy, upsertPolicy, evaluate } as const
  }),
  dependencies: [Agents.Default, AgentsRepo.Default, RolloutsRepo.Default, GovernanceRepo.Default, VoiceSessionEvals.Default, GovernanceSignals.Default, AgentCache.Default]
}) {}
