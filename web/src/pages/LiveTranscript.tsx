import { useEffect, useState } from "react"
import { useTenantToken } from "../session.js"

interface LogFrame {
  readonly type: string
  readonly stream_sid?: string | null
  readonly timestamp: string
  readonly data?: Record<string, unknown>
}

interface Line {
  readonly key: number
  readonly kind: "caller" | "agent" | "tool" | "event"
  readonly text: string
}

const MAX_LINES = 500

const describe = (frame: LogFrame): Omit<Line, "key"> | undefined => {
  const data = frame.data ?? {}
  switch (frame.type) {
    case "transcript":
      return { kind: data.role === "caller" ? "caller" : "agent", text: String(data.text ?? "") }
    case "tool.call":
      return { kind: "tool", text: `${String(data.name ?? "tool")}(${String(data.arguments ?? "")})` }
    case "supervisor.action":
      return { kind: "event", text: `supervisor ${String(data.supervisor ?? "")}: ${String(data.action ?? "")}` }
    case "error":
      return { kind: "event", text: `error: ${String(data.message ?? "")}` }
    case "call.ended":
      return { kind: "event", text: `call ended (${String(data.reason ?? data.end_reason ?? "")})` }
    default:
      return undefined
  }
}

/**
 * The call's transcript as it happens, from the tenant's live log stream (`/api/v1/logs`,
 * every replica's events), filtered to this stream. The credential travels as a subprotocol.
 */
export const LiveTranscript = ({ streamSid }: { streamSid: string }) => {
  const token = useTenantToken()
  const [lines, setLines] = useState<ReadonlyArray<Line>>([])
  const [state, setState] = useState<"connecting" | "open" | "closed">("connecting")
  useEffect(() => {
    if (token === undefined) return
    let next = 0
    const url = `${window.location.protocol === "https:" ? "wss" : "ws"}://${window.location.host}/api/v1/logs`
    const socket = new WebSocket(url, ["stateset.logs", `bearer.${token}`])
    socket.onopen = () => setState("open")
    socket.onclose = () => setState("closed")
    socket.onmessage = (message) => {
      let frame: LogFrame
      try {
        frame = JSON.parse(String(message.data))
      } catch {
        return
      }
      if (frame.stream_sid !== streamSid) return
      const line = describe(frame)
      if (line !== undefined) setLines((previous) => [...previous.slice(-MAX_LINES + 1), { ...line, key: next++ }])
    }
    return () => socket.close()
  }, [token, streamSid])

  return (
    <div>
      <p className="muted" role="status">
        {state === "connecting" ? "Connecting to the live log…" : state === "open" ? "Live" : "Live log closed"}
      </p>
      <ol className="transcript" aria-label="Live transcript" aria-live="polite">
        {lines.length === 0 ? <li className="muted">Waiting for the next words…</li> : null}
        {lines.map((line) => (
          <li key={line.key} className={line.kind === "tool" ? "tool" : line.kind === "event" ? "event" : `turn ${line.kind}`}>
            <span className="who">{line.kind}</span> {line.text}
          </li>
        ))}
      </ol>
    </div>
  )
}
