import type { FunctionCallEntry, TranscriptEntry } from "../Media/CallRecorder.js"
import { clip, clipJson, type LogEvent, type LogEventType } from "./Events.js"

interface CallRef {
  readonly tenantId: string
  readonly callSid: string | null
  readonly streamSid: string
}

interface Publisher {
  readonly publish: (event: LogEvent) => void
  readonly watched: (tenantId: string) => boolean
}

/**
 * What one call publishes to the live log stream. Every method is a cheap no-op unless
 * someone watches the tenant (checked before the event is even built); none blocks.
 */
export const callEvents = (logs: Publisher, call: CallRef, now: () => number) => {
  const emit = (type: LogEventType, data: () => Record<string, unknown>) => {
    if (!logs.watched(call.tenantId)) return
    logs.publish({
      type,
      tenant_id: call.tenantId,
      timestamp: new Date(now()).toISOString(),
      call_sid: call.callSid,
      stream_sid: call.streamSid,
      data: data()
    })
  }
  return {
    started: (details: Record<string, string | null>) => emit("call.started", () => details),
    said: (entry: TranscriptEntry) =>
      emit("transcript", () => ({ role: entry.role === "user" ? "caller" : "agent", text: clip(entry.content) })),
    toolCalled: (entry: FunctionCallEntry, outcome: string) =>
      emit("tool.call", () => ({
        name: clip(entry.name, 200),
        arguments: clipJson(entry.arguments, 1_500),
        result: clipJson(entry.result, 1_500),
        outcome,
        duration_ms: entry.durationMs
      })),
    error: (message: string) => emit("error", () => ({ message: clip(message, 1_000) })),
    ended: (endReason: string, errorMessage: string | null, durationSeconds: number) =>
      emit("call.ended", () => ({
        end_reason: endReason,
        error_message: errorMessage === null ? null : clip(errorMessage, 1_000),
        duration_seconds: durationSeconds
      }))
  } as const
}
