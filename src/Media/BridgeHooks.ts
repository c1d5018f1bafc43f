import type { CompletedCall } from "../CallLogs/CallRecords.js"
import type { CallTelemetry } from "../Observability/CallTelemetry.js"

/**
 * What the bridge asks of the call's Effect side (everything slow or scheduled). Methods, so
 * that a call implements them on one object of its own (Call.ts) instead of a closure each.
 */
export interface BridgeHooks {
  now(): number
  /** Runs a tool off the hot path; the outcome comes back through `toolFinished`. */
  runTool(callId: string, name: string, args: string): void
  /** Opens a replacement upstream: back through `upstreamReady` or `upstreamFailed`. */
  reconnect(): void
  /** Starts the grace timer after an end_call/escalation reply; it calls `finishAction`. */
  hangupSoon(): void
  ended(reason: EndReason, message: string | null): void
  warn(message: string): void
  /** The call's ElevenLabs voice failed: the model speaks from now on. */
  voiceFellBack(reason: string): void
  readonly telemetry: CallTelemetry
}

export type EndReason = CompletedCall["endReason"]

/** Sees the call's audio (a listen-only leg, Monitoring/): base64 mu-law at `bytes[start, end)`. */
export interface MediaTap {
  /** A caller frame, as relayed upstream. */
  caller(bytes: Buffer, start: number, end: number): void
  /** Agent audio, as sent to the caller. */
  agent(bytes: Buffer, start: number, end: number): void
  /** The caller's queued agent audio was cleared (barge-in). */
  clear(): void
}
