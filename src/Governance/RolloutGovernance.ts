import { Effect, Option } from "effect"
import { VoiceSessionEvals } from "../VoiceEvals/VoiceSessionEvals.js"
import { Agents } from "../Agents/Agents.js"
import { GovernanceRepo } from "./Repo.js"
import { DEFAULT_THRESHOLDS, judge, type Thresholds } from "./Rules.js"
import {
  AgentVersionEvalStats,
  type RolloutGovernancePolicy,
  RolloutGovernanceEvaluation,
  RolloutGovernanceVersionEvaluation,
  type UpsertRolloutGovernancePolicy
} from "./Schemas.js"
import { Rollouts } from "../Rollouts/Rollouts.js"
import { type Comparison, compareCanary } from "./Comparison.js"
import { effectiveLimits, GovernanceSignals } from "./Signals.js"
import { GovernanceActions } from "./Actions.js"
import { TenantCache } from "../TenantCache/TenantCache.js"

const thresholdsOf = (policy: RolloutGovernancePolicy): Thresholds => ({
  lookbackHours: policy.lookback_hours,
  minEvalCount: policy.min_eval_count,
  minAvgScore: policy.min_avg_score,
  minHighQualityRate: policy.min_high_quality_rate ?? null
})

const noEvals = { eval_count: 0, avg_score: null, high_quality_rate: null, last_eval_at: null }

/**
 * Judges an agent's rollout by recent session evals: every version in the rollout (and the
 * published one) gets its eval count, average score, high-quality rate and a status, and each
 * canary is compared with its baseline (docs/rollouts.md). With `apply`, an enabled policy moves
 * the traffic of failing versions to the published version, or promotes a single ready canary,
 * under the agent row lock, re-reading the split there, so concurrent evaluations (two
 * replicas, or a sweep and an admin) apply it once; each action is recorded with its numbers.
 */
export class RolloutGovernance extends Effect.Service<RolloutGovernance>()("RolloutGovernance", {
  effect: Effect.gen(function*() {
    const agents = yield* Agents
    const rollouts = yield* Rollouts
    const repo = yield* GovernanceRepo
    const evals = yield* VoiceSessionEvals
    const signals = yield* GovernanceSignals
    const actions = yield* GovernanceActions
    const cache = yield* TenantCache

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

    /** A version of the tenant, or None when it is gone. */
    const versionOf = (tenantId: string, versionId: string) =>
      agents.version(tenantId, versionId).pipe(
        Effect.map(Option.some),
        Effect.catchTag("AgentVersionNotFound", () => Effect.succeed(Option.none()))
      )

    const evaluate = Effect.fn("RolloutGovernance.evaluate")(
      function*(tenantId: string, agentId: string, options: { readonly apply: boolean; readonly actor: string }) {
        yield* agents.tenantExists(tenantId)
        const agent = yield* agents.agent(tenantId, agentId)
        const policy = Option.getOrNull(yield* repo.find(tenantId, agent.id))
        const thresholds = policy === null ? DEFAULT_THRESHOLDS : thresholdsOf(policy)
        const entries = yield* rollouts.split(tenantId, agent.id)
        const publishedId = agent.published_version_id
        const published = publishedId === null ? Option.none() : yield* versionOf(tenantId, publishedId)
        const ids = [...new Set([...entries.map((e) => e.agent_version_id), ...(publishedId === null ? [] : [publishedId])])]
        const stats = new Map((yield* evals.versionStats(tenantId, ids, thresholds.lookbackHours)).map((s) => [s.agent_version_id, s]))

        // Each canary (a version with traffic other than the published one) against the published
        // version, its baseline, over the same window; limits from the policy, else the tenant's config.
        const settings = Option.match(yield* cache.get(tenantId), { onNone: () => undefined, onSome: (t) => t.config.rollout_governance })
        const comparisons = new Map<string, Comparison>()
        const canaries = publishedId === null
          ? []
          : entries.filter((e) => e.agent_version_id !== publishedId && e.traffic_percentage > 0)
        if (publishedId !== null && canaries.length > 0) {
          const limits = effectiveLimits(yield* repo.limits(tenantId, agent.id), settings)
          const minSample = settings?.min_samples ?? thresholds.minEvalCount
          const figures = yield* signals.forVersions(tenantId, [publishedId, ...canaries.map((c) => c.agent_version_id)], thresholds.lookbackHours)
          const served = yield* rollouts.servedHours(tenantId, agent.id)
          for (const canary of canaries) {
            comparisons.set(
              canary.agent_version_id,
              compareCanary(figures.get(canary.agent_version_id)!, figures.get(publishedId)!, limits, minSample, {
                hours: served.get(canary.agent_version_id) ?? null,
                windowHours: thresholds.lookbackHours
              })
            )
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
          const moves = yield* actions.rollBack(
            agent,
            new Set(failing.map((j) => j.entry.agent_version_id)),
            new Map(failing.map((j) => [j.entry.agent_version_id, j.reasons])),
            options.actor,
            new Map([...comparisons].map(([id, c]) => [id, { decision: c.decision, ...c.numbers }]))
          )
          applied = moves.length > 0
          if (applied) finalEntries = yield* rollouts.split(tenantId, agent.id)
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

        // Promotion: the one canary, ready on every compared signal, healthy on its evals, past the window.
        const ready = canaries.length === 1 && !applied && failing.length === 0
          ? judged.find((j) =>
            j.entry.agent_version_id === canaries[0]!.agent_version_id && j.status === "healthy" &&
            comparisons.get(j.entry.agent_version_id)?.decision === "promote"
          )
          : undefined
        if (canaries.length > 1) reasons.push(`${canaries.length} canaries share the traffic; governance promotes only a single canary`)
        if (ready !== undefined && settings?.auto_promote === false) {
          reasons.push(`version ${ready.entry.version_number} is ready to promote; the tenant's rollout_governance.auto_promote is false`)
        }
        let promotedId: string | null = null
        if (
          ready !== undefined && publishedId !== null && options.apply && policy !== null && policy.enabled &&
          settings?.auto_promote !== false
        ) {
          const comparison = comparisons.get(ready.entry.agent_version_id)!
          const baselineShare = entries.find((e) => e.agent_version_id === publishedId)?.traffic_percentage ?? 0
          const promoted = yield* actions.promote(agent, {
            canaryId: ready.entry.agent_version_id,
            baselineId: publishedId,
            expected: entries.map((e) => ({ agent_version_id: e.agent_version_id, traffic_percentage: e.traffic_percentage })),
            movedPercentage: baselineShare,
            reasons: ready.reasons,
            actor: options.actor,
            metadata: { decision: comparison.decision, ...comparison.numbers }
          })
          if (promoted) {
            applied = true
            promotedId = ready.entry.agent_version_id
            finalEntries = yield* rollouts.split(tenantId, agent.id)
            reasons.push(`promoted version ${ready.entry.version_number}: now the published version with 100% of traffic`)
            yield* Effect.logInfo("rollout governance promotion applied").pipe(
              Effect.annotateLogs({
                tenant_id: tenantId,
                agent_id: agent.id,
                from_version_id: publishedId,
                to_version_id: promotedId,
                moved_percentage: baselineShare,
                actor: options.actor
              })
            )
          }
        }

        const shownPublished = promotedId === null ? published : yield* versionOf(tenantId, promotedId)
        const shownPublishedId = promotedId ?? publishedId
        const publishedFigures = shownPublishedId === null ? noEvals : stats.get(shownPublishedId) ?? noEvals
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
          published_version: Option.match(shownPublished, {
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
  dependencies: [Agents.Default, Rollouts.Default, GovernanceRepo.Default, VoiceSessionEvals.Default, GovernanceSignals.Default, GovernanceActions.Default]
}) {}
