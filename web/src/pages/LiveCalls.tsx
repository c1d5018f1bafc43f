import { useState } from "react"
import { run } from "../api.js"
import { useTenantClient } from "../session.js"
import { LiveCallPanel } from "./LiveCallPanel.js"
import { ErrorText, NeedsTenant, Page, Table, useLoad, usePolling, When } from "../ui.js"

/** Calls running now on every replica (the live-call ledger), refreshed every two seconds. */
export const LiveCalls = () => {
  const tenant = useTenantClient()
  const sessions = useLoad(
    () => tenant === undefined ? Promise.resolve(undefined) : run(tenant.client.liveSessions.list()),
    [tenant?.tenantId]
  )
  usePolling(sessions.reload, 2000)
  const [selected, setSelected] = useState<string | undefined>()
  if (tenant === undefined) return <Page title="Live calls"><NeedsTenant /></Page>
  const calls = sessions.data?.sessions
  return (
    <Page title="Live calls">
      <ErrorText error={sessions.error} />
      <div aria-live="polite" className="muted">{calls === undefined ? "" : `${calls.length} live`}</div>
      <Table
        caption="Live calls"
        rows={calls}
        rowKey={(s) => s.stream_sid}
        empty="No calls right now."
        columns={[
          { label: "Started", cell: (s) => <When at={s.started_at} /> },
          { label: "Customer", cell: (s) => s.customer_phone ?? "—" },
          { label: "Type", cell: (s) => s.call_type ?? "—" },
          { label: "Agent", cell: (s) => s.agent_name ?? "—" },
          { label: "Escalated", cell: (s) => (s.escalated ? `to ${s.escalation_target ?? "a person"}` : "") },
          {
            label: "Watch",
            cell: (s) => (
              <button type="button" aria-pressed={selected === s.stream_sid} onClick={() => setSelected(s.stream_sid)}>
                Open
              </button>
            )
          }
        ]}
      />
      {selected === undefined ? null : <LiveCallPanel key={selected} streamSid={selected} onClose={() => setSelected(undefined)} />}
    </Page>
  )
}
