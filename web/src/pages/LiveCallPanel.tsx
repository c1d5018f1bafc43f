import { type FormEvent, useState } from "react"
import { run } from "../api.js"
import { useSession, useTenantClient } from "../session.js"
import { ConfirmButton, ErrorText, Field, useAction } from "../ui.js"
import { LiveTranscript } from "./LiveTranscript.js"

type Action = "monitor" | "whisper" | "barge" | "escalate" | "end"

/**
 * What a supervisor can do to a live call (the API's session actions). Actions the caller
 * notices (barge, escalate, end) ask for confirmation first.
 */
export const LiveCallPanel = ({ streamSid, onClose }: { streamSid: string; onClose: () => void }) => {
  const tenant = useTenantClient()
  const { session } = useSession()
  const supervisor = session.kind === "admin" ? session.username : "console"
  const action = useAction()
  const [result, setResult] = useState<string | undefined>()
  const [note, setNote] = useState("")
  const [target, setTarget] = useState("")
  const [reason, setReason] = useState("")
  if (tenant === undefined) return null

  const perform = async (name: Action, body: { note?: string; target?: string; reason?: string }) => {
    setResult(undefined)
    const answer = await action.act(() =>
      run(tenant.client.sessionActions.perform({
        path: { stream_sid: streamSid, action: name },
        payload: {
          supervisor,
          note: body.note ?? null,
          target: body.target === undefined || body.target === "" ? null : body.target,
          reason: body.reason === undefined || body.reason === "" ? null : body.reason
        }
      }))
    )
    if (answer !== undefined) setResult(answer.message)
  }

  const whisper = (event: FormEvent) => {
    event.preventDefault()
    void perform("whisper", { note }).then(() => setNote(""))
  }

  return (
    <section className="live-panel" aria-label={`Call ${streamSid}`}>
      <div>
        <div className="row">
          <h2>Call <code>{streamSid}</code></h2>
          <button type="button" onClick={onClose}>Close</button>
        </div>
        <LiveTranscript streamSid={streamSid} />
      </div>
      <div>
        <h2>Supervise</h2>
        <div className="row">
          <button type="button" onClick={() => perform("monitor", {})} disabled={action.pending}>Monitor</button>
        </div>
        <form onSubmit={whisper} aria-label="Whisper form">
          <Field label="Whisper to the agent" hint="Guidance for the AI; the caller does not hear it.">
            {(id) => <textarea id={id} rows={3} maxLength={3000} value={note} onChange={(e) => setNote(e.target.value)} required />}
          </Field>
          <button type="submit" disabled={action.pending || note.trim() === ""}>Whisper</button>
        </form>
        <Field label="Person's number (barge or transfer)" hint="E.164, e.g. +15551234567">
          {(id) => <input id={id} value={target} onChange={(e) => setTarget(e.target.value)} maxLength={64} />}
        </Field>
        <div className="row">
          <ConfirmButton
            label="Barge in"
            question="Join a person to this call? The AI stops speaking and listening."
            disabled={action.pending}
            onConfirm={() => void perform("barge", { target })}
          />
          <ConfirmButton
            label="Transfer"
            question={`Transfer the caller${target === "" ? " to the tenant's escalation number" : ` to ${target}`}?`}
            disabled={action.pending}
            onConfirm={() => void perform("escalate", { target, reason: "transferred from the console" })}
          />
        </div>
        <Field label="Reason for ending">
          {(id) => <input id={id} value={reason} onChange={(e) => setReason(e.target.value)} maxLength={1000} />}
        </Field>
        <ConfirmButton
          label="End call"
          danger
          question="End this call? The agent says goodbye, then the call hangs up."
          disabled={action.pending}
          onConfirm={() => void perform("end", { reason })}
        />
        <ErrorText error={action.error} />
        {result === undefined ? null : <p role="status" className="ok">{result}</p>}
      </div>
    </section>
  )
}
