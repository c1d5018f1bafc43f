import { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"
import { VersionResolution } from "../Agents/VersionResolution.js"
import { orUnavailable } from "../Database/Errors.js"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { VoiceRecords } from "../VoiceSessions/VoiceRecords.js"
import { CallLogWrites, type MediaReport, type StatusReport } from "./Writes.js"
import { CallTasks } from "../CallbackTasks/CallTasks.js"
import { orRefused } from "../Database/Errors.js"
import { turnLatencyStats } from "./LatencyStats.js"
import { WebhookEvents, WebhookOutbox } from "../Outbox/WebhookOutbox.js"
import type { CallKey } from "./CallKey.js"
import { AnalysisJobs } from "../CallAnalysis/AnalysisJobs.js"

/** What the media bridge knows when a stream ends (contract with Media). */
export interface CompletedCall extends CallKey {
  readonly model: string
  readonly voice: string
  readonly startedAt: Date
  readonly endedAt: Date
  readonly endReason:
    | "caller_hangup"
    | "stop"
    | "end_call_tool"
    | "escalated"
    | "max_duration"
    | "ended_by_command"
    | "upstream_failure"
    | "error"
  readonly errorMessage: string | null
  readonly transcript: ReadonlyArray<
    { readonly role: "user" | "assistant"; readonly content: string; readonly timestamp: Date }
  >
  readonly functionCalls: ReadonlyArray<
    {
      readonly name: string
      readonly arguments: unknown
      readonly result: unknown
      readonly durationMs: number
      readonly timestamp: Date
    }
  >
  readonly turnLatencies: ReadonlyArray<{ readonly llmFirstTokenMs: number | null; readonly firstAudioMs: number | null }>
  readonly escalated: boolean
  readonly escalationReason: string | null
  /** The prompt-library key the call's instructions came from. */
  readonly systemPromptKey?: string | null
}

// A stream that ended for a transfer (end reason `escalated`) is an escalation only once the
// person answered: that is marked on the log by the transfer (CallLogWrites.markEscalated).
const mediaStatus = (call: CompletedCall): MediaReport["mediaStatus"] =>
  call.escalated
    ? "escalated"
    : call.endReason === "upstream_failure" || call.endReason === "error"
    ? "failed"
    : "completed"

const toMediaReport = (call: CompletedCall): MediaReport => ({
  tenantId: call.tenantId,
  streamSid: call.streamSid,
  callSid: call.callSid,
  direction: call.direction,
  from: call.from,
  to: call.to,
  agentVersionId: call.agentVersionId,
  model: call.model,
  voice: call.voice,
  startedAt: call.startedAt,
  endedAt: call.endedAt,
  mediaStatus: mediaStatus(call),
  endReason: call.endReason,
  errorMessage: call.errorMessage,
  escalated: call.escalated,
  escalationReason: call.escalationReason,
  transcript: call.transcript.map((turn) => ({
    role: turn.role,
    content: turn.content,
    timestamp: turn.timestamp.toISOString()
  })),
  transcriptText: call.transcript.map((turn) => turn.content).join("\n"),
  functionCalls: call.functionCalls.map((fc) => ({
    name: fc.name,
    arguments: fc.arguments ?? null,
    result: fc.result ?? null,
    duration_ms: Math.round(fc.durationMs),
    timestamp: fc.timestamp.toISOString()
  })),
  turnLatencyStats: turnLatencyStats(call.turnLatencies),
  systemPromptKey: call.systemPromptKey ?? null
})

/**
 * How the conversation ended, for the voice outcome: the agent closing the call counts as
 * resolved, as does a caller who hung up after a real exchange; a hang-up before any
 * exchange is abandoned.
 */
const resolutionOf = (call: CompletedCall, status: MediaReport["mediaStatus"], answeredBy: string | null): string => {
  // A machine took the call: whatever the agent said, nothing was resolved (nor billed).
  if (answeredBy !== null && /^(machine|fax)/.test(answeredBy)) return "voicemail"
  if (status === "escalated") return "escalated"
  if (status === "failed") return "failed"
  if (call.endReason === "end_call_tool") return "resolved"
  if (call.endReason === "max_duration") return "unresolved"
  const spoke = (role: string) => call.transcript.some((turn) => turn.role === role)
  return spoke("user") && spoke("assistant") ? "resolved" : "abandoned"
}

/**
 * The one write at the end of a media stream: the call log, the voice session and its
 * outcome, and the `call.completed` webhook event, in one transaction and once per stream.
 */
export class CallRecords extends Effect.Service<CallRecords>()("CallRecords", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const writes = yield* CallLogWrites
    const outbox = yield* WebhookOutbox
    const voiceRecords = yield* VoiceRecords
    const versions = yield* VersionResolution
    const tenants = yield* TenantCache
    const callTasks = yield* CallTasks
    const analysisJobs = yield* AnalysisJobs

    /** Read outside the transaction: the tenant's org and the agent's display name. */
    const context = (call: CompletedCall) =>
      Effect.all({
        orgId: tenants.get(call.tenantId).pipe(
          Effect.map(Option.flatMapNullable((tenant) => tenant.config.org_id)),
          Effect.map(Option.getOrNull)
        ),
        agentName: call.agentVersionId === null
          ? Effect.succeed(null)
          : versions.byId(call.tenantId, call.agentVersionId).pipe(
            Effect.map(Option.flatMapNullable((version) => version.agentName)),
            Effect.map(Option.getOrNull)
          ),
        analyse: analysisJobs.enabledFor(call.tenantId)
      })

    const recordCompletedCall = Effect.fn("CallRecords.recordCompletedCall")(function*(call: CompletedCall) {
      const report = toMediaReport(call)
      const { agentName, analyse, orgId } = yield* context(call)
      const write = Effect.gen(function*() {
        const row = yield* writes.mediaRecorded(report)
        // Nothing written: this stream was recorded before (a retry or a duplicate stop).
        if (row === undefined) return false
        const { sessionId } = yield* voiceRecords.recordCallSession({
          tenantId: call.tenantId,
          orgId,
          streamSid: call.streamSid,
          callSid: call.callSid,
          agentVersionId: call.agentVersionId,
          agentName,
          callType: call.direction,
          customerPhone: call.direction === "inbound" ? call.from : call.to,
          model: call.model,
          voice: call.voice,
          startedAt: call.startedAt,
          endedAt: call.endedAt,
          status: row.status,
          transcript: report.transcript,
          functionCalls: report.functionCalls,
          turnCount: call.transcript.length,
          summary: row.summary,
          escalated: report.escalated,
          resolution: resolutionOf(call, report.mediaStatus, row.answered_by),
          callLogId: row.id
        })
        const completed = {
          call_sid: row.call_sid,
          direction: row.direction,
          duration_seconds: row.duration_seconds,
          escalated: report.escalated,
          from_number: row.from_number,
          function_call_count: call.functionCalls.length,
          status: row.status,
          stream_sid: call.streamSid,
          summary: row.summary,
          to_number: row.to_number,
          transcript_turn_count: call.transcript.length
        }
        if (analyse) {
          // The analysis job commits with the record; the event waits for it, at most ANALYSIS_MAX_WAIT_SECONDS.
          const held = yield* outbox.enqueueHeld(call.tenantId, WebhookEvents.callCompleted, completed, call.endedAt, yield* analysisJobs.holdUntil)
          yield* analysisJobs.enqueue({ tenantId: call.tenantId, voiceSessionId: sessionId, callLogId: row.id, outboxId: Option.getOrNull(held) })
        } else {
          yield* outbox.enqueue(call.tenantId, WebhookEvents.callCompleted, completed, call.endedAt)
        }
        yield* callTasks.fromStream({
          tenantId: call.tenantId,
          callSid: call.callSid,
          streamSid: call.streamSid,
          direction: call.direction,
          customerPhone: call.direction === "inbound" ? call.from : call.to,
          agentName,
          at: call.endedAt,
          resolution: resolutionOf(call, report.mediaStatus, row.answered_by),
          answeredBy: row.answered_by,
          summary: row.summary,
          functionCalls: call.functionCalls
        })
        return true
      })
      const written = yield* orUnavailable(sql.withTransaction(write))
      if (!written) {
        yield* Effect.logDebug("call already recorded").pipe(Effect.annotateLogs("stream_sid", call.streamSid))
      }
    })

    /** A Twilio status callback: merged into the call log, with the tasks it makes, in one transaction. */
    const recordStatus = Effect.fn("CallRecords.recordStatus")((report: StatusReport) =>
      orRefused(sql.withTransaction(Effect.gen(function*() {
        yield* writes.statusReported(report)
        yield* callTasks.fromStatus({
          tenantId: report.tenantId,
          callSid: report.callSid,
          streamSid: null,
          direction: report.direction,
          customerPhone: report.direction === "inbound" ? report.from : report.to,
          agentName: null,
          at: report.at
        }, report.twilioStatus, report.answeredBy)
      }))))

    return { recordCompletedCall, recordStatus } as const
  }),
  dependencies: [CallLogWrites.Default, WebhookOutbox.Default, CallTasks.Default, AnalysisJobs.Default]
}) {}
