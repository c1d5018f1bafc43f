/**
 * The frames `/api/v1/logs` sends (the spec names none): one JSON object per WebSocket text
 * message, `{ type, tenant_id, timestamp, call_sid, stream_sid, data }`. Texts are clipped
 * so one event always fits a PostgreSQL NOTIFY payload (8000 bytes) with room to spare.
 */
export type LogEventType =
  | "call.started"
  | "call.ended"
  | "transcript"
  | "tool.call"
  | "error"
  | "supervisor.action"

export interface LogEvent {
  readonly type: LogEventType
  readonly tenant_id: string
  readonly timestamp: string
  readonly call_sid: string | null
  readonly stream_sid: string | null
  readonly data: Record<string, unknown>
}

/** The largest frame we publish, in bytes of UTF-8 JSON (NOTIFY's limit is 8000 with our prefix). */
export const MAX_EVENT_BYTES = 7_000
const MAX_TEXT = 2_000

/** At most `max` characters, marked when cut. */
export const clip = (text: string, max = MAX_TEXT): string => text.length <= max ? text : `${text.slice(0, max)}…`

/** A value as clipped JSON text (tool arguments and results can be anything). */
export const clipJson = (value: unknown, max = MAX_TEXT): string => {
  const text = typeof value === "string" ? value : JSON.stringify(value) ?? "null"
  return clip(text, max)
}

/** The event as one frame, its `data` replaced by a marker when it is still too large (multi-byte text). */
export const frameOf = (event: LogEvent): string => {
  const frame = JSON.stringify(event)
  if (Buffer.byteLength(frame) <= MAX_EVENT_BYTES) return frame
  return JSON.stringify({ ...event, data: { truncated: true } })
}
