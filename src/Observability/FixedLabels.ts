import { Metric, MetricBoundaries, MetricKey, type MetricLabel } from "effect"

/**
 * Metrics whose labels are part of their key, for hot paths (every HTTP request, every call's
 * set-up). `Metric.taggedWithLabels` re-unites its labels into a new array on every update, so
 * each update builds a metric key and looks it up in the registry by structural equality (it
 * showed in the profiles: bench/RESULTS.md). A metric made from the labelled key looks its
 * registry entry up once. Same key, same series: scrapes and exports see no difference.
 */
export const fixedCounter = (
  name: string,
  options: { readonly description?: string; readonly incremental?: boolean },
  labels: ReadonlyArray<MetricLabel.MetricLabel>
) => Metric.fromMetricKey(MetricKey.taggedWithLabels(MetricKey.counter(name, options), labels))

export const fixedHistogram = (
  name: string,
  boundaries: MetricBoundaries.MetricBoundaries,
  description: string,
  labels: ReadonlyArray<MetricLabel.MetricLabel>
) => Metric.fromMetricKey(MetricKey.taggedWithLabels(MetricKey.histogram(name, boundaries, description), labels))

/** One metric per label set, made on first use. */
export const perLabels = <M>(make: (labels: ReadonlyArray<MetricLabel.MetricLabel>) => M) => {
  const made = new Map<string, M>()
  return (labels: ReadonlyArray<MetricLabel.MetricLabel>): M => {
    const key = labels.map((label) => `${label.key}=${label.value}`).join(",")
    let metric = made.get(key)
    if (metric === undefined) {
      metric = make(labels)
      made.set(key, metric)
    }
    return metric
  }
}
