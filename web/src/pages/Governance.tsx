import { type FormEvent, useEffect, useState } from "react"
import type { RolloutGovernanceEvaluation } from "../../../src/Governance/Schemas.js"
import { run } from "../api.js"
import { adminClient } from "../session.js"
import { ErrorText, Field, Table, useAction, useLoad } from "../ui.js"

const percent = (value: number | null | undefined) => value === null || value === undefined ? "—" : `${Math.round(value * 100)}%`

export const Governance = ({ tenantId, agentId }: { tenantId: string; agentId: string }) => {
  const policy = useLoad(
    () => run(adminClient().rolloutGovernance.getPolicy({ path: { tenant_id: tenantId, agent_id: agentId } })),
    [tenantId, agentId]
  )
  const action = useAction()
  const [form, setForm] = useState({ enabled: true, lookback_hours: 24, min_avg_score: 0.7, min_eval_count: 20, min_high_quality_rate: "" })
  const [evaluation, setEvaluation] = useState<RolloutGovernanceEvaluation | undefined>()
  useEffect(() => {
    const stored = policy.data?.policy
    if (stored != null) {
      setForm({
        enabled: stored.enabled,
        lookback_hours: stored.lookback_hours,
        min_avg_score: stored.min_avg_score,
        min_eval_count: stored.min_eval_count,
        min_high_quality_rate: stored.min_high_quality_rate == null ? "" : String(stored.min_high_quality_rate)
      })
    }
  }, [policy.data])

  const path = { tenant_id: tenantId, agent_id: agentId }
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    await action.act(() =>
      run(adminClient().rolloutGovernance.upsertPolicy({
        path,
        payload: {
          enabled: form.enabled,
          lookback_hours: form.lookback_hours,
          min_avg_score: form.min_avg_score,
          min_eval_count: form.min_eval_count,
          min_high_quality_rate: form.min_high_quality_rate === "" ? null : Number(form.min_high_quality_rate)
        }
      }))
    )
    policy.reload()
  }
  const evaluate = async (apply: boolean) => {
    const result = await action.act(() => run(adminClient().rolloutGovernance.evaluate({ path, payload: { apply } })))
    if (result !== undefined) setEvaluation(result.evaluation)
  }

  return (
    <section aria-labelledby="governance-title">
      <h2 id="governance-title">Rollout governance</h2>
      <form className="inline-form" onSubmit={submit} aria-label="Governance policy">
        <Field label="Enabled">
          {(id) => <input id={id} type="checkbox" checked={form.enabled} onChange={(e) => setForm({ ...form, enabled: e.target.checked })} />}
        </Field>
        <Field label="Window (hours)">
          {(id) => <input id={id} type="number" min={1} max={8760} value={form.lookback_hours} onChange={(e) => setForm({ ...form, lookback_hours: Number(e.target.value) })} />}
        </Field>
        <Field label="Minimum average score (0-1)">
          {(id) => <input id={id} type="number" min={0} max={1} step={0.01} value={form.min_avg_score} onChange={(e) => setForm({ ...form, min_avg_score: Number(e.target.value) })} />}
        </Field>
        <Field label="Minimum evaluations">
          {(id) => <input id={id} type="number" min={1} value={form.min_eval_count} onChange={(e) => setForm({ ...form, min_eval_count: Number(e.target.value) })} />}
        </Field>
        <Field label="Minimum high-quality rate (optional)">
          {(id) => <input id={id} type="number" min={0} max={1} step={0.01} value={form.min_high_quality_rate} onChange={(e) => setForm({ ...form, min_high_quality_rate: e.target.value })} />}
        </Field>
        <button type="submit" className="primary" disabled={action.pending}>Save policy</button>
      </form>
      <div className="row">
        <button type="button" onClick={() => evaluate(false)} disabled={action.pending}>Evaluate (dry run)</button>
        <button type="button" onClick={() => evaluate(true)} disabled={action.pending}>Evaluate and apply</button>
      </div>
      <ErrorText error={action.error ?? policy.error} />
      {evaluation === undefined ? null : (
        <div aria-live="polite">
          <p>
            Decision: <strong>{evaluation.status}</strong>
            {evaluation.applied ? " (applied)" : " (not applied)"}
          </p>
          {(evaluation.reasons ?? []).length === 0 ? null : <ul>{evaluation.reasons!.map((r) => <li key={r}>{r}</li>)}</ul>}
          <Table
            caption="Versions in the decision"
            rows={evaluation.rollout_versions ?? []}
            rowKey={(v) => v.agent_version_id}
            empty="No versions in a split."
            columns={[
              { label: "Version", cell: (v) => `v${v.version_number}` },
              { label: "Traffic", cell: (v) => v.traffic_percentage == null ? "—" : `${v.traffic_percentage}%` },
              { label: "Evaluations", cell: (v) => v.eval_count },
              { label: "Average score", cell: (v) => v.avg_score?.toFixed(2) ?? "—" },
              { label: "High quality", cell: (v) => percent(v.high_quality_rate) },
              { label: "Status", cell: (v) => v.status },
              { label: "Why", cell: (v) => (v.reasons ?? []).join("; ") }
            ]}
          />
        </div>
      )}
    </section>
  )
}
