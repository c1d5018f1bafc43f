import { type MetricLabel, type MetricPair, MetricState, Option } from "effect"

/**
 * Effect's metric snapshot in the OpenMetrics text format (1.0.0), which Prometheus scrapes.
 * Counters are families without the `_total` suffix and samples with it; histograms get
 * cumulative `_bucket{le}` (Effect's buckets already are), `_count` and `_sum`; frequencies
 * become one counter sample per key. `extra` labels (the replica) go on every sample.
 */
export const CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n")
const escapeHelp = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")
const metricName = (name: string) => name.replace(/[^a-zA-Z0-9_:]/g, "_").replace(/^([^a-zA-Z_:])/, "_$1")
const labelName = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, "_").replace(/^([^a-zA-Z_])/, "_$1")

const num = (value: number | bigint): string => {
  if (typeof value === "bigint") return value.toString()
  if (Number.isNaN(value)) return "NaN"
  if (value === Number.POSITIVE_INFINITY) return "+Inf"
  if (value === Number.NEGATIVE_INFINITY) return "-Inf"
  return String(value)
}

const labels = (pairs: ReadonlyArray<readonly [string, string]>): string =>
  pairs.length === 0 ? "" : `{${pairs.map(([k, v]) => `${labelName(k)}="${escapeLabel(v)}"`).join(",")}}`

type Family = { type: string; help: string | undefined; samples: Array<string> }

const familyOf = (families: Map<string, Family>, name: string, type: string, help: Option.Option<string>) => {
  let family = families.get(name)
  if (family === undefined) {
    family = { type, help: Option.getOrUndefined(help), samples: [] }
    families.set(name, family)
  }
  return family
}

const tagsOf = (tags: ReadonlyArray<MetricLabel.MetricLabel>, extra: ReadonlyArray<readonly [string, string]>) =>
  [...tags.map((tag) => [tag.key, tag.value] as const), ...extra]

export const render = (
  snapshot: ReadonlyArray<MetricPair.MetricPair.Untyped>,
  extra: ReadonlyArray<readonly [string, string]> = []
): string => {
  const families = new Map<string, Family>()
  for (const { metricKey, metricState } of snapshot) {
    const name = metricName(metricKey.name)
    const tags = tagsOf(metricKey.tags, extra)
    if (MetricState.isCounterState(metricState)) {
      const base = name.endsWith("_total") ? name.slice(0, -"_total".length) : name
      familyOf(families, base, "counter", metricKey.description).samples.push(
        `${base}_total${labels(tags)} ${num(metricState.count)}`
      )
    } else if (MetricState.isGaugeState(metricState)) {
      familyOf(families, name, "gauge", metricKey.description).samples.push(`${name}${labels(tags)} ${num(metricState.value)}`)
    } else if (MetricState.isHistogramState(metricState)) {
      const family = familyOf(families, name, "histogram", metricKey.description)
      for (const [bound, count] of metricState.buckets) {
        family.samples.push(`${name}_bucket${labels([...tags, ["le", num(bound)]])} ${count}`)
      }
      // Effect's boundaries end with +Inf; a histogram without it still needs one.
      const last = metricState.buckets[metricState.buckets.length - 1]
      if (last === undefined || last[0] !== Number.POSITIVE_INFINITY) {
        family.samples.push(`${name}_bucket${labels([...tags, ["le", "+Inf"]])} ${metricState.count}`)
      }
      family.samples.push(`${name}_count${labels(tags)} ${metricState.count}`)
      family.samples.push(`${name}_sum${labels(tags)} ${num(metricState.sum)}`)
    } else if (MetricState.isFrequencyState(metricState)) {
      const base = name.endsWith("_total") ? name.slice(0, -"_total".length) : name
      const family = familyOf(families, base, "counter", metricKey.description)
      for (const [key, count] of metricState.occurrences) {
        family.samples.push(`${base}_total${labels([...tags, ["key", key]])} ${count}`)
      }
    }
    // Summaries are not used by the service; they are left out rather than mis-rendered.
  }
  const lines: Array<string> = []
  for (const [name, family] of families) {
    lines.push(`# TYPE ${name} ${family.type}`)
    if (family.help !== undefined) lines.push(`# HELP ${name} ${escapeHelp(family.help)}`)
    lines.push(...family.samples)
  }
  lines.push("# EOF")
  return lines.join("\n") + "\n"
}
