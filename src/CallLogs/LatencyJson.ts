import { jsonArray, jsonObject } from "../Database/JsonObject.js"
import { LatencySample, LatencyStats, LatencyTimeseriesPoint } from "./Schemas.js"

/**
 * The latency report's SQL pieces shared by its two statements: the scan over a window's
 * call_log_latency rows (LatencyRepo.ts) and the rolled-up one (LatencyRollup.ts). Both write
 * the same JSON, so a window's answer is the same whichever statement served it.
 */

/** The report's three parts, each the JSON its wire schema's encoder writes. */
export interface LatencyReportJson {
  readonly stats: string
  readonly slowest: string
  readonly points: string
}

/** percentile_cont of each call's own percentiles, as `p50_llm_first_token_ms` ... `p99_e2e_first_audio_ms`. */
export const percentiles = `
  percentile_cont(0.5) within group (order by llm_p50) as p50_llm_first_token_ms,
  percentile_cont(0.95) within group (order by llm_p95) as p95_llm_first_token_ms,
  percentile_cont(0.99) within group (order by llm_p99) as p99_llm_first_token_ms,
  percentile_cont(0.5) within group (order by e2e_p50) as p50_e2e_first_audio_ms,
  percentile_cont(0.95) within group (order by e2e_p95) as p95_e2e_first_audio_ms,
  percentile_cont(0.99) within group (order by e2e_p99) as p99_e2e_first_audio_ms`

/**
 * An average as the numeric sum of the values over their count (float8 -> numeric keeps 15
 * significant digits, the same for a value every time; numeric sums are exact): the same double
 * whatever order the values are added in, and whether they are added one by one or as the day
 * sums of migration 0036 (trim_scale: a sum's display scale is not carried into the division).
 */
export const average = (numericSum: string, count: string) => `(trim_scale(${numericSum}) / nullif(${count}, 0))::float8`

const percentileFields = {
  p50_e2e_first_audio_ms: "p50_e2e_first_audio_ms",
  p50_llm_first_token_ms: "p50_llm_first_token_ms",
  p95_e2e_first_audio_ms: "p95_e2e_first_audio_ms",
  p95_llm_first_token_ms: "p95_llm_first_token_ms",
  p99_e2e_first_audio_ms: "p99_e2e_first_audio_ms",
  p99_llm_first_token_ms: "p99_llm_first_token_ms"
}

// `window` is a reserved word: the stats column is named `window_name`.
export const statsJson = jsonObject(LatencyStats.fields, {
  ...percentileFields,
  avg_e2e_first_audio_ms: "avg_e2e_first_audio_ms",
  avg_llm_first_token_ms: "avg_llm_first_token_ms",
  call_sample_count: "call_sample_count",
  max_e2e_first_audio_ms: "max_e2e_first_audio_ms",
  max_llm_first_token_ms: "max_llm_first_token_ms",
  turn_sample_count: "turn_sample_count",
  window: "window_name"
})

const sampleJson = jsonObject(LatencySample.fields, {
  call_sid: "c.call_sid",
  duration_seconds: "c.duration_seconds",
  e2e_p95_ms: "s.e2e_p95",
  id: "c.id",
  llm_p50_ms: "s.llm_p50",
  llm_p95_ms: "s.llm_p95",
  model: "c.model",
  started_at: "ssv_iso(c.started_at)",
  stream_sid: "c.stream_sid",
  turn_count: "s.turns",
  voice: "c.voice"
})

const pointJson = jsonObject(LatencyTimeseriesPoint.fields, {
  ...percentileFields,
  bucket_start: "ssv_iso(bucket)",
  call_count: "call_count"
})

/**
 * Slowest first; the call's id last only makes full ties come out in one order. The order of
 * index call_log_latency_slowest_idx (migration 0036).
 */
export const slowestOrder = (from: string) =>
  `${from}e2e_p95 desc nulls last, ${from}llm_p95 desc nulls last, ${from}started_at desc, ${from}call_log_id`

/** The slowest calls (`slowest s`, joined to their `call_logs c`) as the JSON array of LatencySample. */
export const slowestJson = jsonArray(sampleJson, slowestOrder("s."))

/** The points (`bucket`, `call_count` and the six percentiles) as the JSON array of LatencyTimeseriesPoint. */
export const pointsJson = jsonArray(pointJson, "bucket")

/** The columns of call_log_latency the report reads. */
export const latencyColumns = `call_log_id, started_at, turns, llm_avg, llm_p50, llm_p95, llm_p99, llm_max,
  e2e_avg, e2e_p50, e2e_p95, e2e_p99, e2e_max`

/** The stats of the rows of `from` (a window's calls), as `statsJson` reads them. */
export const scannedStats = (from: string) => `select count(*) as call_sample_count,
  coalesce(sum(turns), 0)::int8 as turn_sample_count,
  ${average("sum(llm_avg::numeric)", "count(llm_avg)")} as avg_llm_first_token_ms,
  ${average("sum(e2e_avg::numeric)", "count(e2e_avg)")} as avg_e2e_first_audio_ms,
  max(llm_max) as max_llm_first_token_ms, max(e2e_max) as max_e2e_first_audio_ms, ${percentiles}
  from ${from}`
