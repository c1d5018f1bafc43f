/** Per-call turn latency summary, stored in `call_logs.turn_latency_stats` (pure functions). */

export interface TurnLatency {
  readonly llmFirstTokenMs: number | null
  readonly firstAudioMs: number | null
}

export interface LatencySummary {
  readonly count: number
  readonly avg: number | null
  readonly p50: number | null
  readonly p95: number | null
  readonly p99: number | null
  readonly max: number | null
}

/** Linear interpolation between closest ranks, as PostgreSQL's `percentile_cont`. */
export const percentile = (sorted: ReadonlyArray<number>, fraction: number): number | null => {
  if (sorted.length === 0) return null
  const position = (sorted.length - 1) * fraction
  const lower = Math.floor(position)
  const upper = Math.ceil(position)
  const low = sorted[lower]!
  const high = sorted[upper]!
  return low + (high - low) * (position - lower)
}

export const summarize = (values: ReadonlyArray<number>): LatencySummary => {
  const sorted = values.filter((v) => Number.isFinite(v) && v >= 0).sort((a, b) => a - b)
  if (sorted.length === 0) return { count: 0, avg: null, p50: null, p95: null, p99: null, max: null }
  return {
    count: sorted.length,
    avg: sorted.reduce((sum, v) => sum + v, 0) / sorted.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1]!
  }
}

/**
 * `{turns, summary: {llm_first_token_ms, e2e_first_audio_ms}, samples}`: the summary is
 * what the latency API aggregates across calls; samples keep the raw per-turn values.
 */
export const turnLatencyStats = (turns: ReadonlyArray<TurnLatency>) => ({
  turns: turns.length,
  summary: {
    llm_first_token_ms: summarize(turns.flatMap((t) => (t.llmFirstTokenMs === null ? [] : [t.llmFirstTokenMs]))),
    e2e_first_audio_ms: summarize(turns.flatMap((t) => (t.firstAudioMs === null ? [] : [t.firstAudioMs])))
  },
  samples: turns.map((t) => ({ llm_first_token_ms: t.llmFirstTokenMs, e2e_first_audio_ms: t.firstAudioMs }))
})
