/** What a governance decision is measured against (a stored policy, or the defaults). */
export interface Thresholds {
  readonly lookbackHours: number
  readonly minEvalCount: number
  readonly minAvgScore: number
  readonly minHighQualityRate: number | null
}

/** Used to report on agents that have no policy; such agents are never rolled back automatically. */
export const DEFAULT_THRESHOLDS: Thresholds = {
  lookbackHours: 24,
  minEvalCount: 20,
  minAvgScore: 0.7,
  minHighQualityRate: null
}

export type VersionStatus = "healthy" | "insufficient_data" | "failing"

export interface EvalFigures {
  readonly eval_count: number
  readonly avg_score: number | null
  readonly high_quality_rate: number | null
}

const fmt = (n: number) => n.toFixed(3).replace(/0+$/, "").replace(/\.$/, "")

/** A version's status under the thresholds, with the reasons a person would want to read. */
export const judge = (figures: EvalFigures, t: Thresholds): { status: VersionStatus; reasons: Array<string> } => {
  const count = figures.eval_count
  if (count < t.minEvalCount || figures.avg_score === null) {
    return {
      status: "insufficient_data",
      reasons: [`${count} evals in the last ${t.lookbackHours}h; at least ${t.minEvalCount} are needed`]
    }
  }
  const failures: Array<string> = []
  if (figures.avg_score < t.minAvgScore) {
    failures.push(`average score ${fmt(figures.avg_score)} is below the minimum ${fmt(t.minAvgScore)}`)
  }
  if (t.minHighQualityRate !== null && (figures.high_quality_rate ?? 0) < t.minHighQualityRate) {
    failures.push(
      `high-quality rate ${fmt(figures.high_quality_rate ?? 0)} is below the minimum ${fmt(t.minHighQualityRate)}`
    )
  }
  return failures.length > 0
    ? { status: "failing", reasons: failures }
    : { status: "healthy", reasons: [`average score ${fmt(figures.avg_score)} over ${count} evals meets the policy`] }
}

export interface SplitEntry {
  readonly agentVersionId: string
  readonly trafficPercentage: number
}

export interface Rollback {
  readonly entries: ReadonlyArray<SplitEntry>
  readonly moves: ReadonlyArray<{ readonly fromVersionId: string; readonly percentage: number }>
}

/**
 * Moves the traffic of `failing` versions to the published version (kept in the set at 0%
 * so the history of the rollout stays readable). Undefined when nothing would move.
 */
export const planRollback = (
  entries: ReadonlyArray<SplitEntry>,
  failing: ReadonlySet<string>,
  publishedVersionId: string
): Rollback | undefined => {
  const moves = entries
    .filter((e) => failing.has(e.agentVersionId) && e.agentVersionId !== publishedVersionId && e.trafficPercentage > 0)
    .map((e) => ({ fromVersionId: e.agentVersionId, percentage: e.trafficPercentage }))
  const moved = moves.reduce((sum, move) => sum + move.percentage, 0)
  if (moved === 0) return undefined
  const next = entries.map((e): SplitEntry =>
    e.agentVersionId === publishedVersionId
      ? { ...e, trafficPercentage: e.trafficPercentage + moved }
      : failing.has(e.agentVersionId)
      ? { ...e, trafficPercentage: 0 }
      : e
  )
  const hasPublished = entries.some((e) => e.agentVersionId === publishedVersionId)
  return {
    entries: hasPublished ? next : [...next, { agentVersionId: publishedVersionId, trafficPercentage: moved }],
    moves
  }
}
