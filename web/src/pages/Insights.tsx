import { useState } from "react"
import { run } from "../api.js"
import { useTenantClient } from "../session.js"
import { ErrorText, Field, NeedsTenant, Page, useLoad } from "../ui.js"

interface Series {
  readonly label: string
  readonly className: string
  readonly values: ReadonlyArray<number | null>
}

/**
 * A small SVG chart: bars for the first series, lines for the rest. Fixed size so the page
 * does not shift when data arrives; the numbers are also in a table for screen readers.
 */
const Chart = ({ title, buckets, series, unit }: { title: string; buckets: ReadonlyArray<string>; series: ReadonlyArray<Series>; unit: string }) => {
  const width = 640
  const height = 180
  const max = Math.max(1, ...series.flatMap((s) => s.values.map((v) => v ?? 0)))
  const step = buckets.length === 0 ? width : width / buckets.length
  const y = (value: number) => height - (value / max) * (height - 10)
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg viewBox={`0 0 ${width} ${height + 20}`} width="100%" height={height + 20} role="img" aria-label={`${title}, maximum ${Math.round(max)} ${unit}`}>
        {series[0]?.values.map((value, i) =>
          value === null ? null : (
            <rect key={i} className={series[0]!.className} x={i * step + 1} y={y(value)} width={Math.max(1, step - 2)} height={height - y(value)} />
          )
        )}
        {series.slice(1).map((s) => (
          <polyline
            key={s.label}
            className={s.className}
            fill="none"
            points={s.values.map((v, i) => (v === null ? null : `${i * step + step / 2},${y(v)}`)).filter((p) => p !== null).join(" ")}
          />
        ))}
        <text x={0} y={height + 16} className="axis">{buckets[0] ?? ""}</text>
        <text x={width} y={height + 16} className="axis" textAnchor="end">{buckets[buckets.length - 1] ?? ""}</text>
        <text x={width} y={12} className="axis" textAnchor="end">{Math.round(max)} {unit}</text>
      </svg>
      <ul className="legend">{series.map((s) => <li key={s.label} className={s.className}>{s.label}</li>)}</ul>
    </figure>
  )
}

const shortTime = (at: Date | string) => new Date(at).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" })
const percent = (n: number | null | undefined) => (n == null ? "—" : `${Math.round(n * 100)}%`)

export const Insights = () => {
  const tenant = useTenantClient()
  const [window, setWindow] = useState("24h")
  const bucket = window === "24h" ? "1h" : "1d"
  const outcomes = useLoad(
    () => tenant === undefined ? Promise.resolve(undefined) : run(tenant.client.voiceOutcomes.timeseries({ urlParams: { window, bucket } })),
    [tenant?.tenantId, window]
  )
  const outcomeStats = useLoad(
    () => tenant === undefined ? Promise.resolve(undefined) : run(tenant.client.voiceOutcomes.stats({ urlParams: { window } })),
    [tenant?.tenantId, window]
  )
  const calls = useLoad(
    () => tenant === undefined ? Promise.resolve(undefined) : run(tenant.client.callLogs.stats()),
    [tenant?.tenantId]
  )
  const latency = useLoad(
    () => tenant === undefined ? Promise.resolve(undefined) : run(tenant.client.callLogs.latency({ urlParams: { window, samples: 5 } })),
    [tenant?.tenantId, window]
  )
  if (tenant === undefined) return <Page title="Insights"><NeedsTenant /></Page>
  const points = outcomes.data?.timeseries.points ?? []
  const latencyPoints = latency.data?.timeseries.points ?? []
  const stats = calls.data?.stats
  const mix = outcomeStats.data?.stats.resolution_mix ?? []
  const mixTotal = mix.reduce((sum, m) => sum + m.count, 0)

  return (
    <Page
      title="Insights"
      actions={
        <Field label="Window">
          {(id) => (
            <select id={id} value={window} onChange={(e) => setWindow(e.target.value)}>
              <option value="24h">Last 24 hours</option>
              <option value="7d">Last 7 days</option>
              <option value="30d">Last 30 days</option>
            </select>
          )}
        </Field>
      }
    >
      <ErrorText error={outcomes.error ?? calls.error ?? latency.error ?? outcomeStats.error} />
      <dl className="kpis">
        <div><dt>Calls (all time)</dt><dd>{stats?.total_calls ?? "…"}</dd></div>
        <div><dt>Answer rate</dt><dd>{percent(stats?.answer_rate)}</dd></div>
        <div><dt>Escalated</dt><dd>{stats?.escalated_calls ?? "…"}</dd></div>
        <div><dt>Average duration</dt><dd>{stats?.avg_duration_seconds == null ? "—" : `${Math.round(stats.avg_duration_seconds)} s`}</dd></div>
        <div><dt>First audio p95</dt><dd>{latency.data?.stats.p95_e2e_first_audio_ms == null ? "—" : `${Math.round(latency.data.stats.p95_e2e_first_audio_ms)} ms`}</dd></div>
      </dl>
      <Chart
        title="Calls and escalations"
        unit="calls"
        buckets={points.map((p) => shortTime(p.bucket_start))}
        series={[
          { label: "Calls", className: "s-calls", values: points.map((p) => p.total) },
          { label: "Escalated", className: "s-escalated", values: points.map((p) => p.escalated) }
        ]}
      />
      <Chart
        title="Time to first audio"
        unit="ms"
        buckets={latencyPoints.map((p) => shortTime(p.bucket_start))}
        series={[
          { label: "p50", className: "s-calls", values: latencyPoints.map((p) => p.p50_e2e_first_audio_ms ?? null) },
          { label: "p95", className: "s-escalated", values: latencyPoints.map((p) => p.p95_e2e_first_audio_ms ?? null) }
        ]}
      />
      <h2>Resolution</h2>
      <table>
        <caption className="visually-hidden">Resolution mix</caption>
        <thead><tr><th scope="col">Resolution</th><th scope="col">Calls</th><th scope="col">Share</th></tr></thead>
        <tbody>
          {mix.length === 0 ? <tr><td colSpan={3} className="muted">No outcomes in this window.</td></tr> : null}
          {mix.map((m) => (
            <tr key={m.name}>
              <th scope="row">{m.name}</th>
              <td className="num">{m.count}</td>
              <td><meter min={0} max={mixTotal} value={m.count} aria-label={`${m.name} share`} /> {percent(m.count / Math.max(1, mixTotal))}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>
  )
}
