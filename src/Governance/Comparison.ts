import type { ComparisonLimits, VersionSignals } from "./Signals.js"

/** What the comparison of a canary with its baseline decides. */
export type CanaryDecision = "rollback" | "hold" | "promote"

export interface Comparison {
  readonly decision: CanaryDecision
  readonly reasons: ReadonlyArray<string>
  /** The numbers behind the decision (recorded with an applied rollback). */
  readonly numbers: {
    readonly canary: VersionSignals
    readonly baseline: VersionSignals
    readonly limits: ComparisonLimits
    readonly min_sample: number
    readonly worse: ReadonlyArray<string>
    /** Hours the canary has had traffic (null: unknown) and the window it must serve first. */
    readonly served_hours: number | null
    readonly window_hours: number
  }
}

/** How long the canary has been serving, against the window it must serve before promotion. */
export interface Serving {
  readonly hours: number | null
  readonly windowHours: number
}

const fmt = (n: number) => n.toFixed(3).replace(/0+$/, "").replace(/\.$/, "")

interface Signal {
  readonly name: string
  readonly canary: number | null
  readonly baseline: number | null
  readonly canarySample: number
  readonly baselineSample: number
  /** How much worse the canary is (positive = worse), in the signal's unit. */
  readonly worseBy: (canary: number, baseline: number) => number
  readonly allowed: number
  readonly unit: string
}

/**
 * A canary against the version it would replace, over the same window: rolled back when any
 * signal with a full sample on both sides is worse by more than the policy allows; held while
 * either side has fewer calls than the minimum sample or the canary has served for less than
 * the window; otherwise ready to promote. A signal whose sample is short on either side is
 * not compared (and says so).
 */
export const compareCanary = (
  canary: VersionSignals,
  baseline: VersionSignals,
  limits: ComparisonLimits,
  minSample: number,
  serving: Serving
): Comparison => {
  const rate = (name: string, key: "escalation_rate" | "failure_rate" | "abandonment_rate", allowed: number): Signal => ({
    name,
    canary: canary[key],
    baseline: baseline[key],
    canarySample: canary.calls,
    baselineSample: baseline.calls,
    worseBy: (c, b) => c - b,
    allowed,
    unit: ""
  })
  const signals: Array<Signal> = [
    rate("escalation rate", "escalation_rate", limits.max_escalation_rate_increase),
    rate("error/upstream-failure rate", "failure_rate", limits.max_failure_rate_increase),
    rate("abandonment rate", "abandonment_rate", limits.max_abandonment_rate_increase),
    {
      name: "auto eval score", canary: canary.auto_avg_score, baseline: baseline.auto_avg_score,
      canarySample: canary.auto_evals, baselineSample: baseline.auto_evals,
      worseBy: (c, b) => b - c, allowed: limits.max_score_drop, unit: ""
    },
    {
      name: "manual eval score", canary: canary.manual_avg_score, baseline: baseline.manual_avg_score,
      canarySample: canary.manual_evals, baselineSample: baseline.manual_evals,
      worseBy: (c, b) => b - c, allowed: limits.max_score_drop, unit: ""
    },
    {
      name: "p95 turn latency", canary: canary.p95_turn_latency_ms, baseline: baseline.p95_turn_latency_ms,
      canarySample: canary.latency_samples, baselineSample: baseline.latency_samples,
      worseBy: (c, b) => c - b, allowed: limits.max_p95_latency_increase_ms, unit: " ms"
    }
  ]
  const reasons: Array<string> = []
  const worse: Array<string> = []
  for (const s of signals) {
    if (s.canary === null || s.baseline === null || s.canarySample < minSample || s.baselineSample < minSample) {
      if (s.canarySample > 0 || s.baselineSample > 0) {
        reasons.push(`${s.name} not compared: ${s.canarySample} canary and ${s.baselineSample} baseline samples; at least ${minSample} each are needed`)
      }
      continue
    }
    const by = s.worseBy(s.canary, s.baseline)
    const line = `${s.name} ${fmt(s.canary)}${s.unit} vs baseline ${fmt(s.baseline)}${s.unit} over ${s.canarySample} and ${s.baselineSample} samples`
    if (by > s.allowed) {
      worse.push(s.name)
      reasons.push(`${line}: worse by ${fmt(by)}${s.unit}, more than the ${fmt(s.allowed)}${s.unit} allowed`)
    } else {
      reasons.push(`${line}: within the ${fmt(s.allowed)}${s.unit} allowed`)
    }
  }
  const holds: Array<string> = []
  if (canary.calls < minSample) holds.push(`hold: ${canary.calls} canary calls in the window; at least ${minSample} are needed`)
  if (baseline.calls < minSample) holds.push(`hold: ${baseline.calls} baseline calls in the window; at least ${minSample} are needed`)
  if (serving.hours === null || serving.hours < serving.windowHours) {
    holds.push(`hold: the canary has served for ${serving.hours === null ? "an unknown time" : `${fmt(serving.hours)}h`}; promotion waits for the ${serving.windowHours}h window`)
  }
  const decision: CanaryDecision = worse.length > 0 ? "rollback" : holds.length > 0 ? "hold" : "promote"
  if (decision === "hold") reasons.unshift(...holds)
  if (decision === "promote") reasons.push("no signal is worse than the baseline: ready to promote")
  return {
    decision,
    reasons,
    numbers: {
      canary, baseline, limits, min_sample: minSample, worse,
      served_hours: serving.hours === null ? null : Math.round(serving.hours * 1000) / 1000,
      window_hours: serving.windowHours
    }
  }
}
