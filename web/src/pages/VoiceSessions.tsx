import { type FormEvent, useState } from "react"
import { ApiFailure, run } from "../api.js"
import { useTenantClient } from "../session.js"
import { ErrorText, Field, Json, Link, NeedsTenant, Page, Table, useLoad, When } from "../ui.js"

export const VoiceSessions = () => {
  const tenant = useTenantClient()
  const [search, setSearch] = useState<string | undefined>()
  const [status, setStatus] = useState<string | undefined>()
  const [offset, setOffset] = useState(0)
  const list = useLoad(
    () =>
      tenant === undefined
        ? Promise.resolve(undefined)
        : run(tenant.client.voiceSessions.list({ urlParams: { search, status, limit: 50, offset } })),
    [tenant?.tenantId, search, status, offset]
  )
  if (tenant === undefined) return <Page title="Voice sessions"><NeedsTenant /></Page>
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault()
    const form = new FormData(event.currentTarget)
    const text = String(form.get("search") ?? "").trim()
    const state = String(form.get("status") ?? "")
    setSearch(text === "" ? undefined : text)
    setStatus(state === "" ? undefined : state)
    setOffset(0)
  }
  return (
    <Page title="Voice sessions">
      <form className="inline-form" onSubmit={submit} aria-label="Filter sessions">
        <Field label="Search">{(id) => <input id={id} name="search" maxLength={200} />}</Field>
        <Field label="Status">
          {(id) => (
            <select id={id} name="status" defaultValue="">
              <option value="">Any</option>
              {["active", "completed", "transferred", "failed"].map((s) => <option key={s}>{s}</option>)}
            </select>
          )}
        </Field>
        <button type="submit" className="primary">Apply filters</button>
      </form>
      <ErrorText error={list.error} />
      <Table
        caption="Voice sessions"
        rows={list.data?.sessions}
        rowKey={(s) => s.id}
        empty="No sessions match."
        columns={[
          { label: "Started", cell: (s) => <Link to={`/sessions/${s.id}`}><When at={s.started_at} /></Link> },
          { label: "Customer", cell: (s) => s.customer_phone ?? "—" },
          { label: "Agent", cell: (s) => s.agent_name ?? "—" },
          { label: "Status", cell: (s) => s.status },
          { label: "Turns", cell: (s) => s.turn_count, className: "num" },
          { label: "Sentiment", cell: (s) => s.sentiment ?? "—" },
          { label: "Summary", cell: (s) => s.summary ?? "" }
        ]}
      />
      <div className="row">
        <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - 50))}>Previous page</button>
        <button type="button" disabled={(list.data?.sessions.length ?? 0) < 50} onClick={() => setOffset(offset + 50)}>Next page</button>
      </div>
    </Page>
  )
}

export const VoiceSessionDetail = ({ id }: { id: string }) => {
  const tenant = useTenantClient()
  const session = useLoad(
    () => tenant === undefined ? Promise.resolve(undefined) : run(tenant.client.voiceSessions.get({ path: { id } })),
    [tenant?.tenantId, id]
  )
  const streamId = session.data?.stream_id
  const outcome = useLoad(
    () =>
      tenant === undefined || streamId === undefined
        ? Promise.resolve(undefined)
        : run(tenant.client.voiceOutcomes.byStream({ path: { stream_sid: streamId } })).catch(() => undefined),
    [tenant?.tenantId, streamId]
  )
  const evals = useLoad(
    () =>
      tenant === undefined
        ? Promise.resolve(undefined)
        // The latest evaluation of the session; a session nobody evaluated answers 404.
        : run(tenant.client.voiceSessionEvals.bySession({ path: { session_id: id } })).then(
          (one) => [one],
          (failure: unknown) => failure instanceof ApiFailure && failure.status === 404 ? [] : Promise.reject(failure)
        ),
    [tenant?.tenantId, id]
  )
  if (tenant === undefined) return <Page title="Voice session"><NeedsTenant /></Page>
  const s = session.data
  const o = outcome.data?.outcome
  return (
    <Page title="Voice session">
      <ErrorText error={session.error} />
      {s === undefined ? <p className="muted">Loading…</p> : (
        <>
          <dl className="facts">
            <dt>Stream</dt><dd><code>{s.stream_id}</code></dd>
            <dt>Started</dt><dd><When at={s.started_at} /></dd>
            <dt>Ended</dt><dd><When at={s.ended_at} /></dd>
            <dt>Customer</dt><dd>{s.customer_phone ?? "—"}</dd>
            <dt>Agent</dt><dd>{s.agent_name ?? "—"}</dd>
            <dt>Status</dt><dd>{s.status}</dd>
            <dt>Sentiment</dt><dd>{s.sentiment ?? "—"}</dd>
          </dl>
          {s.summary == null ? null : <><h2>Summary</h2><p>{s.summary}</p></>}
          <h2>Outcome</h2>
          {o === undefined ? <p className="muted">No outcome recorded.</p> : (
            <dl className="facts">
              <dt>Resolution</dt><dd>{o.resolution}</dd>
              <dt>Intent</dt><dd>{o.primary_intent ?? "—"}</dd>
              <dt>Risk</dt><dd>{o.risk_level ?? "—"}</dd>
              <dt>Escalated</dt><dd>{o.escalated ? "yes" : "no"}</dd>
              <dt>Billing</dt><dd>{o.billing_status}{o.billable_sku == null ? "" : ` (${o.billable_sku})`}</dd>
            </dl>
          )}
          <h2>Latest evaluation</h2>
          <ErrorText error={evals.error} />
          <Table
            caption="Evaluations"
            rows={evals.data}
            rowKey={(e) => e.id}
            empty="Not evaluated."
            columns={[
              { label: "When", cell: (e) => <When at={e.created_at} /> },
              { label: "Source", cell: (e) => e.source },
              { label: "Score", cell: (e) => e.score?.toFixed(2) ?? "—", className: "num" },
              { label: "Tags", cell: (e) => e.tags.join(", ") },
              { label: "Notes", cell: (e) => e.notes ?? "" }
            ]}
          />
          <h2>Transcript</h2>
          <Json value={s.transcript} />
        </>
      )}
    </Page>
  )
}
