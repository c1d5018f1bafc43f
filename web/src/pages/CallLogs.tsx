import { type FormEvent, useState } from "react"
import type { CallLog } from "../../../src/CallLogs/Schemas.js"
import { run } from "../api.js"
import { useTenantClient } from "../session.js"
import { ErrorText, Field, Link, NeedsTenant, Page, Table, useLoad, When } from "../ui.js"

interface Filters {
  readonly status?: string
  readonly direction?: string
  readonly transcript_search?: string
  readonly from_date?: string
  readonly escalated?: boolean
}

const FILTER_FIELDS = ["status", "direction", "transcript_search", "from_date"] as const

export const CallLogs = () => {
  const tenant = useTenantClient()
  const [filters, setFilters] = useState<Filters>({})
  const [cursors, setCursors] = useState<ReadonlyArray<string>>([])
  const cursor = cursors[cursors.length - 1]
  const page = useLoad(
    () => tenant === undefined ? Promise.resolve(undefined) : run(tenant.client.callLogs.list({ urlParams: { ...filters, limit: 50, cursor } })),
    [tenant?.tenantId, filters, cursor]
  )
  if (tenant === undefined) return <Page title="Call logs"><NeedsTenant /></Page>

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    const next: Record<string, string | boolean> = {}
    for (const key of FILTER_FIELDS) {
      const value = String(form.get(key) ?? "").trim()
      if (value !== "") next[key] = key === "from_date" ? new Date(value).toISOString() : value
    }
    if (form.get("escalated") === "on") next.escalated = true
    setCursors([])
    setFilters(next)
  }

  return (
    <Page title="Call logs">
      <form className="inline-form" onSubmit={submit} aria-label="Filter calls">
        <Field label="Status">
          {(id) => (
            <select id={id} name="status" defaultValue="">
              <option value="">Any</option>
              {["in-progress", "completed", "failed", "busy", "no-answer", "canceled"].map((s) => <option key={s}>{s}</option>)}
            </select>
          )}
        </Field>
        <Field label="Direction">
          {(id) => (
            <select id={id} name="direction" defaultValue="">
              <option value="">Any</option>
              <option>inbound</option>
              <option>outbound</option>
              {/* Console test calls are listed as inbound (the spec's directions); this finds only them. */}
              <option value="web">console test calls</option>
            </select>
          )}
        </Field>
        <Field label="Transcript contains">{(id) => <input id={id} name="transcript_search" maxLength={200} />}</Field>
        <Field label="Since">{(id) => <input id={id} name="from_date" type="datetime-local" />}</Field>
        <Field label="Escalated only">{(id) => <input id={id} name="escalated" type="checkbox" />}</Field>
        <button type="submit" className="primary">Apply filters</button>
      </form>
      <ErrorText error={page.error} />
      <Table
        caption="Calls"
        rows={page.data?.calls}
        rowKey={(c) => c.id}
        empty="No calls match."
        columns={[
          { label: "Started", cell: (c) => <Link to={`/calls/${c.id}`}><When at={c.started_at} /></Link> },
          { label: "Direction", cell: (c) => c.direction },
          { label: "From", cell: (c) => c.from_number ?? "—" },
          { label: "To", cell: (c) => c.to_number ?? "—" },
          { label: "Status", cell: (c) => c.status },
          { label: "Outcome", cell: (c) => c.outcome ?? "—" },
          { label: "Duration", cell: (c) => c.duration_seconds == null ? "—" : `${c.duration_seconds}s`, className: "num" },
          { label: "Escalated", cell: (c) => (c.escalated ? "yes" : "") }
        ]}
      />
      <div className="row">
        <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>Previous page</button>
        <button
          type="button"
          disabled={page.data?.next_cursor == null}
          onClick={() => page.data?.next_cursor != null && setCursors([...cursors, page.data.next_cursor])}
        >
          Next page
        </button>
      </div>
    </Page>
  )
}

type Moment =
  | { readonly kind: "turn"; readonly at: string; readonly role: string; readonly content: string }
  | { readonly kind: "tool"; readonly at: string; readonly name: string; readonly durationMs: number | null; readonly detail: unknown }

/** Turns and tool calls in the order they happened. */
const timeline = (call: CallLog): ReadonlyArray<Moment> =>
  [
    ...call.transcript.map((t): Moment => ({ kind: "turn", at: t.timestamp, role: t.role, content: t.content })),
    ...call.function_calls.map((f): Moment => ({
      kind: "tool",
      at: f.timestamp,
      name: f.name,
      durationMs: f.duration_ms ?? null,
      detail: { arguments: f.arguments, result: f.result }
    }))
  ].sort((a, b) => a.at.localeCompare(b.at))

export const Transcript = ({ moments }: { moments: ReadonlyArray<Moment> }) => (
  <ol className="transcript" aria-label="Transcript">
    {moments.length === 0 ? <li className="muted">Nothing said yet.</li> : null}
    {moments.map((m, index) =>
      m.kind === "turn"
        ? (
          <li key={index} className={`turn ${m.role}`}>
            <span className="who">{m.role}</span> <When at={m.at} />
            <p>{m.content}</p>
          </li>
        )
        : (
          <li key={index} className="tool">
            <span className="who">tool</span> <code>{m.name}</code> {m.durationMs === null ? null : <span className="latency">{m.durationMs} ms</span>}
            <details><summary>Arguments and result</summary><pre className="json">{JSON.stringify(m.detail, null, 2)}</pre></details>
          </li>
        )
    )}
  </ol>
)

export const CallLogDetail = ({ id }: { id: string }) => {
  const tenant = useTenantClient()
  const call = useLoad(
    () => tenant === undefined ? Promise.resolve(undefined) : run(tenant.client.callLogs.get({ path: { id } })),
    [tenant?.tenantId, id]
  )
  if (tenant === undefined) return <Page title="Call"><NeedsTenant /></Page>
  const c = call.data?.call
  return (
    <Page title="Call">
      <ErrorText error={call.error} />
      {c === undefined ? <p className="muted">Loading…</p> : (
        <>
          <dl className="facts">
            <dt>Started</dt><dd><When at={c.started_at} /></dd>
            <dt>Ended</dt><dd><When at={c.ended_at} /></dd>
            <dt>Direction</dt><dd>{c.direction}</dd>
            <dt>From</dt><dd>{c.from_number ?? "—"}</dd>
            <dt>To</dt><dd>{c.to_number ?? "—"}</dd>
            <dt>Status</dt><dd>{c.status}{c.outcome == null ? "" : ` (${c.outcome})`}</dd>
            <dt>Escalated</dt><dd>{c.escalated ? `yes${c.escalation_reason == null ? "" : `: ${c.escalation_reason}`}` : "no"}</dd>
            <dt>Model / voice</dt><dd>{c.model ?? "—"} / {c.voice ?? "—"}</dd>
            {c.error_message == null ? null : <><dt>Error</dt><dd className="error">{c.error_message}</dd></>}
            {c.recording_url == null ? null : <><dt>Recording</dt><dd><a href={c.recording_url}>listen</a></dd></>}
          </dl>
          {c.summary == null ? null : <><h2>Summary</h2><p>{c.summary}</p></>}
          <h2>Transcript</h2>
          <Transcript moments={timeline(c)} />
        </>
      )}
    </Page>
  )
}
