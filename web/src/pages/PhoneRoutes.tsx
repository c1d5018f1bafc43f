import { type FormEvent, useState } from "react"
import type { PhoneNumberRouteDirection } from "../../../src/PhoneRoutes/Api.js"
import { run } from "../api.js"
import { adminClient, useSession } from "../session.js"
import { ConfirmButton, ErrorText, Field, NeedsTenant, Page, Table, useAction, useLoad } from "../ui.js"

const DIRECTIONS: ReadonlyArray<PhoneNumberRouteDirection> = ["inbound", "outbound", "sip_inbound", "sip_outbound"]

export const PhoneRoutes = () => {
  const { tenantId } = useSession()
  const routes = useLoad(
    () => tenantId === undefined ? Promise.resolve(undefined) : run(adminClient().phoneNumberRoutes.list({ path: { tenant_id: tenantId } })),
    [tenantId]
  )
  const agents = useLoad(
    () => tenantId === undefined ? Promise.resolve(undefined) : run(adminClient().agents.list({ path: { tenant_id: tenantId } })),
    [tenantId]
  )
  const action = useAction()
  const [form, setForm] = useState({ phone_number: "", agent_id: "", direction: "inbound" as PhoneNumberRouteDirection, greeting: "" })
  if (tenantId === undefined) return <Page title="Phone routes"><NeedsTenant /></Page>

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    const done = await action.act(() =>
      run(adminClient().phoneNumberRoutes.upsert({
        path: { tenant_id: tenantId },
        payload: {
          phone_number: form.phone_number.trim(),
          agent_id: form.agent_id,
          direction: form.direction,
          greeting: form.greeting.trim() === "" ? null : form.greeting.trim(),
          agent_version_id: null,
          id: null
        }
      }))
    )
    if (done !== undefined) {
      setForm({ ...form, phone_number: "", greeting: "" })
      routes.reload()
    }
  }

  return (
    <Page title="Phone routes">
      <form className="inline-form" onSubmit={submit} aria-label="Add a phone route">
        <Field label="Phone number" hint="E.164, e.g. +15551234567">
          {(id) => <input id={id} value={form.phone_number} onChange={(e) => setForm({ ...form, phone_number: e.target.value })} required pattern="\+[1-9][0-9]{6,14}" />}
        </Field>
        <Field label="Agent">
          {(id) => (
            <select id={id} value={form.agent_id} onChange={(e) => setForm({ ...form, agent_id: e.target.value })} required>
              <option value="">Choose…</option>
              {(agents.data?.agents ?? []).map((a) => <option key={a.id} value={a.id}>{a.name}</option>)}
            </select>
          )}
        </Field>
        <Field label="Direction">
          {(id) => (
            <select id={id} value={form.direction} onChange={(e) => setForm({ ...form, direction: e.target.value as PhoneNumberRouteDirection })}>
              {DIRECTIONS.map((d) => <option key={d}>{d}</option>)}
            </select>
          )}
        </Field>
        <Field label="Greeting (optional)">
          {(id) => <input id={id} value={form.greeting} maxLength={500} onChange={(e) => setForm({ ...form, greeting: e.target.value })} />}
        </Field>
        <button type="submit" className="primary" disabled={action.pending}>Save route</button>
      </form>
      <ErrorText error={action.error ?? routes.error} />
      <Table
        caption="Phone routes"
        rows={routes.data?.routes}
        rowKey={(r) => r.id}
        empty="No routes: calls use the tenant's default agent."
        columns={[
          { label: "Number", cell: (r) => r.phone_number },
          { label: "Direction", cell: (r) => r.direction },
          { label: "Agent", cell: (r) => r.agent_name },
          { label: "Version", cell: (r) => r.resolved_version_number == null ? "published" : `v${r.resolved_version_number}` },
          { label: "Greeting", cell: (r) => r.greeting ?? "" },
          {
            label: "Actions",
            cell: (r) => (
              <ConfirmButton
                label="Delete"
                danger
                question={`Delete the route for ${r.phone_number}? Its calls fall back to the tenant's default agent.`}
                onConfirm={async () => {
                  await action.act(() => run(adminClient().phoneNumberRoutes.delete({ path: { tenant_id: tenantId, route_id: r.id } })))
                  routes.reload()
                }}
              />
            )
          }
        ]}
      />
    </Page>
  )
}
