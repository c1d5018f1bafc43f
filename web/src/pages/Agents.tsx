import { type FormEvent, useState } from "react"
import { run } from "../api.js"
import { adminClient, useSession } from "../session.js"
import { ErrorText, Field, Link, NeedsTenant, Page, Table, useAction, useLoad, When } from "../ui.js"
import { Governance } from "./Governance.js"
import { Rollouts } from "./Rollouts.js"
import { VersionCompare } from "./VersionCompare.js"
import { TestCallButton } from "./TestCall.js"

export const Agents = () => {
  const { tenantId } = useSession()
  const agents = useLoad(
    () => tenantId === undefined ? Promise.resolve(undefined) : run(adminClient().agents.list({ path: { tenant_id: tenantId } })),
    [tenantId]
  )
  const create = useAction()
  const [name, setName] = useState("")
  const [key, setKey] = useState("")
  if (tenantId === undefined) return <Page title="Agents"><NeedsTenant /></Page>

  const submit = async (event: FormEvent) => {
    event.preventDefault()
    const made = await create.act(() =>
      run(adminClient().agents.create({ path: { tenant_id: tenantId }, payload: { name, agent_key: key, description: null } }))
    )
    if (made !== undefined) {
      setName("")
      setKey("")
      agents.reload()
    }
  }

  return (
    <Page title="Agents">
      <form className="inline-form" onSubmit={submit} aria-label="Create an agent">
        <Field label="Name">{(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />}</Field>
        <Field label="Key" hint="Stable identifier, e.g. support">
          {(id) => <input id={id} value={key} onChange={(e) => setKey(e.target.value)} required maxLength={128} />}
        </Field>
        <button type="submit" className="primary" disabled={create.pending}>Create agent</button>
      </form>
      <ErrorText error={create.error ?? agents.error} />
      <Table
        caption="Agents"
        rows={agents.data?.agents}
        rowKey={(a) => a.id}
        empty="No agents yet: create one above."
        columns={[
          { label: "Name", cell: (a) => <Link to={`/agents/${a.id}`}>{a.name}</Link> },
          { label: "Key", cell: (a) => <code>{a.agent_key}</code> },
          { label: "Updated", cell: (a) => <When at={a.updated_at} /> }
        ]}
      />
    </Page>
  )
}

const VERSION_FIELDS = ["agent_name", "greeting", "voice", "realtime_model", "instructions"] as const

export const AgentDetail = ({ agentId }: { agentId: string }) => {
  const { tenantId } = useSession()
  const versions = useLoad(
    () =>
      tenantId === undefined
        ? Promise.resolve(undefined)
        : run(adminClient().agents.listVersions({ path: { tenant_id: tenantId }, urlParams: { agent_id: agentId } })),
    [tenantId, agentId]
  )
  const action = useAction()
  const [draft, setDraft] = useState<Record<string, string>>({})
  if (tenantId === undefined) return <Page title="Agent"><NeedsTenant /></Page>
  const list = versions.data?.versions ?? []
  const title = list[0]?.agent_name ?? "Agent"

  const createVersion = async (event: FormEvent) => {
    event.preventDefault()
    const config = Object.fromEntries(VERSION_FIELDS.map((field) => [field, draft[field]?.trim() || null]))
    const made = await action.act(() =>
      run(adminClient().agents.createVersion({ path: { tenant_id: tenantId }, payload: { agent_id: agentId, config } }))
    )
    if (made !== undefined) {
      setDraft({})
      versions.reload()
    }
  }

  return (
    <Page title={title} actions={<TestCallButton agentId={agentId} versions={list} />}>
      <h2>Versions</h2>
      <ErrorText error={action.error ?? versions.error} />
      <Table
        caption="Versions"
        rows={versions.data?.versions}
        rowKey={(v) => v.id}
        empty="No versions yet: create the first below."
        columns={[
          { label: "Version", cell: (v) => `v${v.version_number}` },
          { label: "Status", cell: (v) => <span className={`badge ${v.status}`}>{v.status}</span> },
          { label: "Voice", cell: (v) => v.config.voice ?? "default" },
          { label: "Greeting", cell: (v) => v.config.greeting ?? "" },
          { label: "Published", cell: (v) => <When at={v.published_at} /> },
          {
            label: "Actions",
            cell: (v) =>
              v.status === "published" ? null : (
                <button
                  type="button"
                  disabled={action.pending}
                  onClick={async () => {
                    await action.act(() =>
                      run(adminClient().agents.publishVersion({ path: { tenant_id: tenantId, version_id: v.id } }))
                    )
                    versions.reload()
                  }}
                >
                  Publish v{v.version_number}
                </button>
              )
          }
        ]}
      />
      <details>
        <summary>New version</summary>
        <form onSubmit={createVersion} aria-label="Create a version">
          {VERSION_FIELDS.map((field) => (
            <Field key={field} label={field.replace("_", " ")}>
              {(id) =>
                field === "instructions"
                  ? <textarea id={id} rows={8} maxLength={20000} value={draft[field] ?? ""} onChange={(e) => setDraft({ ...draft, [field]: e.target.value })} />
                  : <input id={id} maxLength={500} value={draft[field] ?? ""} onChange={(e) => setDraft({ ...draft, [field]: e.target.value })} />}
            </Field>
          ))}
          <button type="submit" className="primary" disabled={action.pending}>Create version</button>
        </form>
      </details>
      {list.length >= 2 ? <VersionCompare versions={list} /> : null}
      <Rollouts tenantId={tenantId} agentId={agentId} versions={list} />
      <Governance tenantId={tenantId} agentId={agentId} />
    </Page>
  )
}
