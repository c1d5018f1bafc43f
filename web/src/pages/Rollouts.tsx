import { useEffect, useState } from "react"
import type { AgentVersion } from "../../../src/Agents/Api.js"
import { run } from "../api.js"
import { adminClient } from "../session.js"
import { ErrorText, useAction, useLoad } from "../ui.js"

interface Share {
  readonly versionId: string
  readonly percent: number
}

/** Moves one share to `percent` and takes the difference from (or gives it to) the others, last first. */
export const rebalance = (shares: ReadonlyArray<Share>, index: number, percent: number): Array<Share> => {
  const next = shares.map((share) => ({ ...share }))
  next[index] = { ...next[index]!, percent }
  let excess = next.reduce((sum, share) => sum + share.percent, 0) - 100
  for (let i = next.length - 1; i >= 0 && excess !== 0; i--) {
    if (i === index) continue
    const change = excess > 0 ? Math.min(excess, next[i]!.percent) : excess
    next[i] = { ...next[i]!, percent: next[i]!.percent - change }
    excess -= change
  }
  return next
}

export const Rollouts = (
  { tenantId, agentId, versions }: { tenantId: string; agentId: string; versions: ReadonlyArray<AgentVersion> }
) => {
  const current = useLoad(
    () => run(adminClient().agentRollouts.list({ path: { tenant_id: tenantId, agent_id: agentId } })),
    [tenantId, agentId]
  )
  const save = useAction()
  const [shares, setShares] = useState<Array<Share>>([])
  const [saved, setSaved] = useState(false)
  useEffect(() => {
    if (current.data !== undefined) {
      setShares(current.data.rollouts.map((r) => ({ versionId: r.agent_version_id, percent: r.traffic_percentage })))
    }
  }, [current.data])

  const total = shares.reduce((sum, share) => sum + share.percent, 0)
  const unused = versions.filter((v) => !shares.some((s) => s.versionId === v.id))
  const label = (id: string) => `v${versions.find((v) => v.id === id)?.version_number ?? "?"}`

  return (
    <section aria-labelledby="rollout-title">
      <h2 id="rollout-title">Traffic split</h2>
      <p className="muted">
        Calls are spread over these versions by percentage; with no split, the published version takes every call.
      </p>
      {shares.map((share, index) => (
        <div className="slider-row" key={share.versionId}>
          <label htmlFor={`share-${share.versionId}`}>{label(share.versionId)}</label>
          <input
            id={`share-${share.versionId}`}
            type="range"
            min={0}
            max={100}
            step={1}
            value={share.percent}
            aria-valuetext={`${share.percent} percent`}
            onChange={(e) => {
              setSaved(false)
              setShares(rebalance(shares, index, Number(e.target.value)))
            }}
          />
          <output htmlFor={`share-${share.versionId}`}>{share.percent}%</output>
          <button type="button" onClick={() => setShares(shares.filter((_, i) => i !== index))} aria-label={`Remove ${label(share.versionId)} from the split`}>
            Remove
          </button>
        </div>
      ))}
      <div className="row">
        {unused.length === 0 ? null : (
          <select
            aria-label="Add a version to the split"
            value=""
            onChange={(e) => e.target.value !== "" && setShares([...shares, { versionId: e.target.value, percent: shares.length === 0 ? 100 : 0 }])}
          >
            <option value="">Add a version…</option>
            {unused.map((v) => <option key={v.id} value={v.id}>v{v.version_number} ({v.status})</option>)}
          </select>
        )}
        <span className={total === 100 || shares.length === 0 ? "muted" : "error"}>Total {total}%</span>
        <button
          type="button"
          className="primary"
          disabled={save.pending || (shares.length > 0 && total !== 100)}
          onClick={async () => {
            const done = await save.act(() =>
              run(adminClient().agentRollouts.replace({
                path: { tenant_id: tenantId, agent_id: agentId },
                payload: { entries: shares.map((s) => ({ agent_version_id: s.versionId, traffic_percentage: s.percent })) }
              }))
            )
            if (done !== undefined) {
              setSaved(true)
              current.reload()
            }
          }}
        >
          Save split
        </button>
        {saved ? <span role="status" className="ok">Saved.</span> : null}
      </div>
      <ErrorText error={save.error ?? current.error} />
    </section>
  )
}
