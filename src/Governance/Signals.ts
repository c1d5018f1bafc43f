import { Effect } from "effect"
import { CallLogs } from "../CallLogs/CallLogs.js"
import type { TenantConfig } from "../Tenants/Config.js"
import { VoiceSessionEvals } from "../VoiceEvals/VoiceSessionEvals.js"
import { VoiceOutcomes } from "../VoiceOutcomes/VoiceOutcomes.js"

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

/** How much worse than its baseline a canary may be. */
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

/** A policy row's own limits (migration 0024: null = not set on the policy). */
export type PolicyLimits = { readonly [K in keyof ComparisonLimits]: number | null }

/** The limits a comparison uses: the policy's own, else the tenant's `rollout_governance` config, else the defaults. */
export const effectiveLimits = (policy: PolicyLimits | undefined, tenant: TenantConfig["rollout_governance"]): ComparisonLimits => {
  const pick = (key: keyof ComparisonLimits) => policy?.[key] ?? tenant?.[key] ?? DEFAULT_LIMITS[key]
  return {
    max_score_drop: pick("max_score_drop"),
    max_escalation_rate_increase: pick("max_escalation_rate_increase"),
    max_failure_rate_increase: pick("max_failure_rate_increase"),
    max_abandonment_rate_increase: pick("max_abandonment_rate_increase"),
    max_p95_latency_increase_ms: pick("max_p95_latency_increase_ms")
  }
}

const none: VersionSignals = {
  calls: 0,
  escalation_rate: null,
  failure_rate: null,
  abandonment_rate: null,
  auto_evals: 0,
  auto_avg_score: null,
  manual_evals: 0,
  manual_avg_score: null,
  latency_samples: 0,
  p95_turn_latency_ms: null
}

/**
 * The signals governance compares, read through the services that own them: outcomes
 * (escalation, failure, abandonment), evaluations (auto and manual scores) and call logs
 * (turn latency). One grouped query each for all the versions, run side by side.
 */
export class GovernanceSignals extends Effect.Service<GovernanceSignals>()("GovernanceSignals", {
  effect: Effect.gen(function*() {
    const outcomes = yield* VoiceOutcomes
    const evals = yield* VoiceSessionEvals
    const callLogs = yield* CallLogs

    const forVersions = Effect.fn("GovernanceSignals.forVersions")(
      function*(tenantId: string, versionIds: ReadonlyArray<string>, lookbackHours: number) {
        const [rates, scores, latency] = yield* Effect.all([
          outcomes.versionRates(tenantId, versionIds, lookbackHours),
          evals.versionScoresBySource(tenantId, versionIds, lookbackHours),
          callLogs.versionTurnLatency(tenantId, versionIds, lookbackHours)
        ], { concurrency: 3 })
        const byVersion = new Map<string, VersionSignals>(versionIds.map((id) => [id, none]))
        const merge = (row: { readonly agent_version_id: string }, fields: Partial<VersionSignals>) =>
          byVersion.set(row.agent_version_id, { ...(byVersion.get(row.agent_version_id) ?? none), ...fields })
        for (const r of rates) {
          merge(r, { calls: r.calls, escalation_rate: r.escalation_rate, failure_rate: r.failure_rate, abandonment_rate: r.abandonment_rate })
        }
        for (const s of scores) {
          merge(s, { auto_evals: s.auto_evals, auto_avg_score: s.auto_avg_score, manual_evals: s.manual_evals, manual_avg_score: s.manual_avg_score })
        }
        for (const l of latency) merge(l, { latency_samples: l.latency_samples, p95_turn_latency_ms: l.p95_turn_latency_ms })
        return byVersion
      }
    )

    return { forVersions } as const
  }),
  dependencies: [VoiceOutcomes.Default, VoiceSessionEvals.Default, CallLogs.Default]
}) {}
