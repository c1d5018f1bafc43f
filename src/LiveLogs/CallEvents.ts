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
 * An object with methods, not a set of closures: a call keeps this for its whole length.
 */
export class CallEvents {
  constructor(
    private readonly logs: Publisher,
    private readonly call: CallRef,
    private readonly clock: { readonly unsafeCurrentTimeMillis: () => number }
  ) {}

  started(details: Record<string, string | null>): void {
    if (this.watched()) this.emit("call.started", details)
  }

  said(entry: TranscriptEntry): void {
    if (this.watched()) this.emit("transcript", { role: entry.role === "user" ? "caller" : "agent", text: clip(entry.content) })
  }

  toolCalled(entry: FunctionCallEntry, outcome: string): void {
    if (!this.watched()) return
    this.emit("tool.call", {
      name: clip(entry.name, 200),
      arguments: clipJson(entry.arguments, 1_500),
      result: clipJson(entry.result, 1_500),
      outcome,
      duration_ms: entry.durationMs
    })
  }

  error(message: string): void {
    if (this.watched()) this.emit("error", { message: clip(message, 1_000) })
  }

  ended(endReason: string, errorMessage: string | null, durationSeconds: number): void {
    if (!this.watched()) return
    this.emit("call.ended", {
      end_reason: endReason,
      error_message: errorMessage === null ? null : clip(errorMessage, 1_000),
      duration_seconds: durationSeconds
    })
  }

  private watched(): boolean {
    return this.logs.watched(this.call.tenantId)
  }

  private emit(type: LogEventType, data: Record<string, unknown>): void {
    this.logs.publish({
      type,
      tenant_id: this.call.tenantId,
      timestamp: new Date(this.clock.unsafeCurrentTimeMillis()).toISOString(),
      call_sid: this.call.callSid,
      stream_sid: this.call.streamSid,
      data
    })
  }
}
