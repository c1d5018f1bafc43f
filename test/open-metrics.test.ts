import { describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import { Effect, Metric, MetricBoundaries } from "effect"
import { render } from "../src/Observability/OpenMetrics.js"
import { parseOpenMetrics, valueOf } from "./support/OpenMetricsText.js"

describe("OpenMetrics rendering", () => {
  it.effect("counters, gauges and histograms in the text format, labels escaped, extra labels on every sample", () =>
    Effect.gen(function*() {
      const requests = Metric.counter("om_test_requests_total", { description: "Requests\nanswered", incremental: true })
      const live = Metric.gauge("om_test_live")
      const latency = Metric.histogram("om_test_latency_ms", MetricBoundaries.fromIterable([10, 100]), "Latency")
      yield* Metric.incrementBy(Metric.tagged(requests, "tenant", "a\"b\\c\nd"), 3)
      yield* Metric.set(live, 2)
      for (const ms of [5, 50, 50, 500]) yield* Metric.update(latency, ms)

      const snapshot = (yield* Metric.snapshot).filter((pair) => pair.metricKey.name.startsWith("om_test_"))
      const text = render(snapshot, [["replica", "r1"]])
      const lines = text.split("\n")
      expect(lines).toContain("# TYPE om_test_requests counter")
      expect(lines).toContain("# HELP om_test_requests Requests\\nanswered")
      expect(lines).toContain("om_test_requests_total{tenant=\"a\\\"b\\\\c\\nd\",replica=\"r1\"} 3")
      expect(lines).toContain("# TYPE om_test_latency_ms histogram")

      const samples = parseOpenMetrics(text)
      expect(valueOf(samples, "om_test_requests_total", { tenant: "a\"b\\c\nd" })).toBe(3)
      expect(valueOf(samples, "om_test_live", { replica: "r1" })).toBe(2)
      const buckets = samples.filter((s) => s.name === "om_test_latency_ms_bucket").map((s) => [s.labels.le, s.value])
      expect(buckets).toEqual([["10", 1], ["100", 3], ["+Inf", 4]])
      expect(valueOf(samples, "om_test_latency_ms_count")).toBe(4)
      expect(valueOf(samples, "om_test_latency_ms_sum")).toBe(605)
      expect(text.endsWith("# EOF\n")).toBe(true)
    }))

  it("an empty registry is still a valid exposition", () => {
    expect(render([])).toBe("# EOF\n")
    expect(parseOpenMetrics(render([]))).toEqual([])
  })
})

describe("the metric catalogue", () => {
  const read = (file: string) => fs.readFileSync(new URL(`../${file}`, import.meta.url), "utf8")
  const defined = [...read("src/Observability/Metrics.ts").matchAll(/"(voice_[a-z_]+)"/g)].map((m) => m[1]!)
  const family = (name: string) => name.replace(/_(bucket|count|sum)$/, "")

  it("README lists every metric the service defines", () => {
    const readme = read("README.md")
    expect(defined.length).toBeGreaterThan(20)
    for (const name of defined) expect(readme, name).toContain(`| \`${name}\` |`)
  })

  it("the dashboard and the alert rules use only metrics the service defines, and every alert is explained", () => {
    const known = new Set([...defined, "http_server_requests_total", "http_server_request_duration_ms"])
    const dashboard = JSON.parse(read("deploy/grafana-dashboard.json")) as { panels: Array<{ targets?: Array<{ expr: string }> }> }
    const exprs = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr))
    const alerts = read("deploy/prometheus-alerts.yaml")
    for (const text of [...exprs, alerts]) {
      for (const [name] of text.matchAll(/\b(voice|http_server)_[a-z_]+/g)) expect(known.has(family(name)), name).toBe(true)
    }
    const rules = alerts.split("\n").filter((line) => line.trim().startsWith("- alert:"))
    const explained = alerts.split("\n").filter((line, i, lines) => lines[i + 1]?.trim().startsWith("- alert:") && line.trim().startsWith("#"))
    expect(rules.length).toBe(5)
    expect(explained.length).toBe(rules.length)
  })
})
