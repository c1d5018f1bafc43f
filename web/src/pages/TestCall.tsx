import { useEffect, useRef, useState } from "react"
import type { AgentVersion } from "../../../src/Agents/Api.js"
import { run } from "../api.js"
import { BrowserCall } from "../call/BrowserCall.js"
import { adminClient, useSession } from "../session.js"
import { ErrorText, messageOf } from "../ui.js"
import { LiveTranscript } from "./LiveTranscript.js"

type CallState = "idle" | "connecting" | "live" | "ended"

/**
 * "Talk to this agent": a microphone call to a version, from the browser, recorded as direction
 * `web` (listed as `inbound`, from `console:<you>`; the call logs' `direction=web` finds them).
 */
export const TestCallButton = ({ versions }: { agentId: string; versions: ReadonlyArray<AgentVersion> }) => {
  const { tenantId } = useSession()
  const published = versions.find((v) => v.status === "published") ?? versions[0]
  const [versionId, setVersionId] = useState<string | undefined>(published?.id)
  const [state, setState] = useState<CallState>("idle")
  const [detail, setDetail] = useState<string | undefined>()
  const [speaking, setSpeaking] = useState(false)
  const [streamSid, setStreamSid] = useState<string | undefined>()
  const call = useRef<BrowserCall | undefined>(undefined)
  useEffect(() => () => call.current?.hangUp(), [])
  useEffect(() => {
    if (versionId === undefined && published !== undefined) setVersionId(published.id)
  }, [published, versionId])
  if (tenantId === undefined || versions.length === 0) return null

  const start = async () => {
    if (versionId === undefined) return
    setDetail(undefined)
    setState("connecting")
    try {
      const issued = await run(adminClient().console.startTestCall({ path: { tenant_id: tenantId }, payload: { agent_version_id: versionId } }))
      // The page's own origin: the console is served by the service it calls.
      const url = `${window.location.protocol === "https:" ? "wss" : "ws"}://${window.location.host}/media-stream`
      const browserCall = new BrowserCall(url, issued.stream_token, issued.stream_sid, issued.call_sid, {
        onState: (next, why) => {
          setState(next)
          if (why !== undefined) setDetail(why)
        },
        onSpeaking: setSpeaking
      })
      call.current = browserCall
      setStreamSid(issued.stream_sid)
      await browserCall.start()
    } catch (failure) {
      call.current?.hangUp()
      setState("ended")
      setDetail(failure instanceof DOMException && failure.name === "NotAllowedError" ? "The browser did not allow the microphone." : messageOf(failure))
    }
  }

  return (
    <div className="test-call">
      {state === "idle" || state === "ended"
        ? (
          <>
            <label>
              <span className="visually-hidden">Version to call</span>
              <select value={versionId ?? ""} onChange={(e) => setVersionId(e.target.value)} aria-label="Version to call">
                {versions.map((v) => <option key={v.id} value={v.id}>v{v.version_number} ({v.status})</option>)}
              </select>
            </label>
            <button type="button" className="primary" onClick={() => void start()}>Talk to this agent</button>
          </>
        )
        : <button type="button" className="danger" onClick={() => call.current?.hangUp()}>Hang up</button>}
      <span role="status" className="muted">
        {state === "connecting" ? "Connecting…" : state === "live" ? (speaking ? "Agent speaking" : "Listening") : state === "ended" ? "Call ended" : ""}
      </span>
      <ErrorText error={state === "ended" ? detail : undefined} />
      {streamSid === undefined || state === "idle" ? null : <LiveTranscript streamSid={streamSid} />}
    </div>
  )
}
