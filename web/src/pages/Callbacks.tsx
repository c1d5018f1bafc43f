import { useState } from "react"
import type { CallbackTask } from "../../../src/CallbackTasks/Schemas.js"
import { run } from "../api.js"
import { useSession, useTenantClient } from "../session.js"
import { ErrorText, Field, NeedsTenant, Page, Table, useAction, useLoad, When } from "../ui.js"

const inHour = () => new Date(Date.now() + 3_600_000)

export const Callbacks = () => {
  const tenant = useTenantClient()
  const { session } = useSession()
  const operator = session.kind === "admin" ? session.username : "console"
  const [queue, setQueue] = useState<string | undefined>()
  const [status, setStatus] = useState<string | undefined>("open")
  const queues = useLoad(
    () => tenant === undefined ? Promise.resolve(undefined) : run(tenant.client.operatorQueues.list()),
    [tenant?.tenantId]
  )
  const tasks = useLoad(
    () =>
      tenant === undefined
        ? Promise.resolve(undefined)
        : run(tenant.client.callbackTasks.list({ urlParams: { queue_key: queue, status: status as CallbackTask["status"] | undefined, limit: 100 } })),
    [tenant?.tenantId, queue, status]
  )
  const action = useAction()
  if (tenant === undefined) return <Page title="Callbacks"><NeedsTenant /></Page>
  const client = tenant.client
  const act = async (work: () => Promise<unknown>) => {
    await action.act(work)
    tasks.reload()
  }

  const controls = (task: CallbackTask) => {
    const path = { id: task.id }
    if (task.status === "completed" || task.status === "canceled") return <span className="muted">{task.disposition}</span>
    return (
      <div className="row">
        {task.claimed_at == null
          ? <button type="button" onClick={() => act(() => run(client.callbackTasks.claim({ path, payload: { operator } })))}>Claim</button>
          : <button type="button" onClick={() => act(() => run(client.callbackTasks.release({ path, payload: {} })))}>Release</button>}
        <button
          type="button"
          onClick={() => {
            const who = window.prompt("Assign to", task.assigned_to ?? operator)
            if (who !== null && who.trim() !== "") void act(() => run(client.callbackTasks.assign({ path, payload: { assigned_to: who.trim() } })))
          }}
        >
          Assign…
        </button>
        {task.snoozed_until == null
          ? <button type="button" onClick={() => act(() => run(client.callbackTasks.snooze({ path, payload: { operator, snoozed_until: inHour() } })))}>Snooze 1 h</button>
          : <button type="button" onClick={() => act(() => run(client.callbackTasks.unsnooze({ path, payload: { operator } })))}>Unsnooze</button>}
        <button type="button" className="primary" onClick={() => act(() => run(client.callbackTasks.update({ path, payload: { status: "completed", disposition: "resolved" } })))}>
          Complete
        </button>
      </div>
    )
  }

  return (
    <Page title="Callbacks">
      <div className="inline-form">
        <Field label="Queue">
          {(id) => (
            <select id={id} value={queue ?? ""} onChange={(e) => setQueue(e.target.value === "" ? undefined : e.target.value)}>
              <option value="">All queues</option>
              {(queues.data ?? []).map((q) => <option key={q.queue_key} value={q.queue_key}>{q.name}</option>)}
            </select>
          )}
        </Field>
        <Field label="Status">
          {(id) => (
            <select id={id} value={status ?? ""} onChange={(e) => setStatus(e.target.value === "" ? undefined : e.target.value)}>
              <option value="">Any</option>
              {["open", "in_progress", "completed", "canceled"].map((s) => <option key={s}>{s}</option>)}
            </select>
          )}
        </Field>
      </div>
      <ErrorText error={action.error ?? tasks.error ?? queues.error} />
      <Table
        caption="Callback tasks"
        rows={tasks.data}
        rowKey={(t) => t.id}
        empty="No callback tasks."
        columns={[
          { label: "Due", cell: (t) => <When at={t.due_at} /> },
          { label: "Customer", cell: (t) => t.customer_phone ?? "—" },
          { label: "Queue", cell: (t) => t.queue_key ?? "default" },
          { label: "Priority", cell: (t) => t.priority, className: "num" },
          { label: "Status", cell: (t) => t.status + (t.snoozed_until == null ? "" : " (snoozed)") },
          { label: "Assigned", cell: (t) => t.assigned_to ?? "—" },
          { label: "Summary", cell: (t) => t.summary ?? "" },
          { label: "Actions", cell: controls }
        ]}
      />
    </Page>
  )
}
