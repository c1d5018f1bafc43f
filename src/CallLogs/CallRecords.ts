import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Effect, Option } from "effect"
import { spannedIf, spansExported } from "../Observability/Spans.js"
import { VersionResolution } from "../Agents/VersionResolution.js"
import { composeStatement, type StatementPart } from "../Database/StatementParts.js"
import { makeShapeCompiler } from "../Database/StatementShapes.js"
import { Ids } from "../Ids.js"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { VoiceRecords } from "../VoiceSessions/VoiceRecords.js"
import { CallLogWrites, type MediaReport, type StatusReport } from "./Writes.js"
import { CallTasks } from "../CallbackTasks/CallTasks.js"
import { type DatabaseUnavailable, type InvalidInput, orRefused } from "../Database/Errors.js"
import { makeRecordBatches } from "./RecordBatches.js"
import { makeExecuteText } from "../Database/HotStatement.js"
import { turnLatencyStats } from "./LatencyStats.js"
import { WebhookEvents, WebhookOutbox } from "../Outbox/WebhookOutbox.js"
import type { CallKey } from "./CallKey.js"
import { AnalysisJobs } from "../CallAnalysis/AnalysisJobs.js"
import { piece } from "../Database/Piece.js"

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

/**
 * The record's final select (after its parts): whether it wrote the record. Each part is read by
 * its quoted name (`"recorded_call"`), so the record can share a statement (SharedStatement.ts).
 */
const RESULT = `
          select exists (select 1 from "recorded_call") as written, `

// The held event's id for the analysis job, when the event part is in.
const COMPLETED_EVENT_ID = piece`(select id from "call_completed_event")`
const NULL = piece`null`

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
 * outcome, the `call.completed` webhook event, the analysis job, the tasks the call makes
 * (and their events), with the NOTIFYs that wake the workers, committed together and once per
 * stream. It is one statement of data-modifying CTEs (one round trip, no BEGIN/COMMIT): each
 * module gives its own part (below, where each lives); every part reads the call log part,
 * whose conflict key (call_logs: tenant and call SID, or stream SID) writes nothing for a
 * stream recorded before, so a retry after a lost connection or a crash writes nothing twice.
 */
export class CallRecords extends Effect.Service<CallRecords>()("CallRecords", {
  scoped: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // The end-of-call record is on every call: without the per-statement wrapping, and prepared
    // by name per shape (an upsert, insert-selects and key lookups: one plan suits every call), so
    // PostgreSQL parses and plans it once per connection instead of per call.
    const execute = (yield* makeExecuteText(sql)).prepared
    const compile = makeShapeCompiler(sql)
    const ids = yield* Ids
    const writes = yield* CallLogWrites
    const outbox = yield* WebhookOutbox
    const voiceRecords = yield* VoiceRecords
    const versions = yield* VersionResolution
    const tenants = yield* TenantCache
    const callTasks = yield* CallTasks
    const analysisJobs = yield* AnalysisJobs
    // Records of calls that end while one is being written share the next statement (group commit).
    const batches = yield* makeRecordBatches<DatabaseUnavailable | InvalidInput>(sql)
    // A span per record only when spans are exported, chosen once (Observability/Spans.ts `spannedIf`).
    const traced = yield* spansExported

    /**
     * Records the call; `alongside` are parts that commit with it whether or not this statement
     * wrote the record (the call leaving the live-call ledger). True when it wrote the record,
     * false when the stream was recorded before (a retry, a duplicate stop, a reaper).
     *
     * What is read first (the clock, the tenant: a cache hit; the agent's version when the call has
     * one) is read once, and the parts are built from it as plain code, so the record runs a few
     * Effect operations besides its statement's (bench/record-cost.ts). A span only when traced.
     */
    const recordCompletedCall = spannedIf(traced, "CallRecords.recordCompletedCall", Effect.fnUntraced(
      function*(call: CompletedCall, alongside: ReadonlyArray<StatementPart> = []) {
        const report = toMediaReport(call)
        const now = yield* Clock.currentTimeMillis
        const tenant = tenants.recall(call.tenantId, now) ?? (yield* tenants.get(call.tenantId))
        const orgId = Option.isSome(tenant) ? tenant.value.config.org_id ?? null : null
        const version = call.agentVersionId === null ? Option.none() : yield* versions.byId(call.tenantId, call.agentVersionId)
        const agentName = Option.isSome(version) ? version.value.agentName ?? null : null
        const analyse = analysisJobs.enabledFor(tenant)
        const webhookUrl = Option.isSome(tenant) ? tenant.value.config.webhook_url : undefined
        const customerPhone = call.direction === "inbound" ? call.from : call.to
        const log = "recorded_log"
        const logRow = piece`select r.*,
          case when r.answered_by ~ '^(machine|fax)' then 'voicemail' else ${resolutionOf(call, report.mediaStatus, null)}::text end
            as resolution
          from "recorded_call" r`
        const completed = outbox.nextEventIds()
        // For a tenant with a webhook URL; with analysis, the event waits for it (ANALYSIS_MAX_WAIT_SECONDS at most).
        const completedEvent = webhookUrl === undefined ? undefined : outbox.eventsPartAt(
          webhookUrl,
          "call_completed_event",
          call.tenantId,
          WebhookEvents.callCompleted,
          call.endedAt,
          analyse ? analysisJobs.holdUntil(now) : null,
          now,
          // `direction` as the call log shows it (WireDirection.ts: a console test call is inbound), written
          // out: the record's pieces keep their text per template site (Database/Piece.ts).
          piece`select ${completed.rowId}::uuid as row_id, ${completed.msgId}::text as msg_id, jsonb_build_object(
              'call_sid', l.call_sid, 'direction', case l.direction when 'web' then 'inbound' else l.direction end,
              'duration_seconds', l.duration_seconds,
              'escalated', ${report.escalated}::boolean, 'from_number', l.from_number,
              'function_call_count', ${call.functionCalls.length}::int, 'status', l.status,
              'stream_sid', ${call.streamSid}::text, 'summary', l.summary, 'to_number', l.to_number,
              'transcript_turn_count', ${call.transcript.length}::int) as data
            from ${sql(log)} l`
        )
        const parts: ReadonlyArray<StatementPart> = [
          // CallLogs/Writes.ts: the call log row, or nothing (recorded before): every part below reads it.
          { name: "recorded_call", statement: writes.mediaRecordedStatement(ids.nextUuid(), report) },
          { name: log, statement: logRow },
          // VoiceSessions/VoiceRecords.ts (and VoiceOutcomes/Repo.ts): the session and its outcome.
          ...voiceRecords.sessionParts({
            tenantId: call.tenantId,
            orgId,
            streamSid: call.streamSid,
            callSid: call.callSid,
            agentVersionId: call.agentVersionId,
            agentName,
            callType: call.direction,
            customerPhone,
            model: call.model,
            voice: call.voice,
            startedAt: call.startedAt,
            endedAt: call.endedAt,
            transcript: report.transcript,
            functionCalls: report.functionCalls,
            turnCount: call.transcript.length,
            escalated: report.escalated
          }, log),
          // Outbox/WebhookOutbox.ts: `voice.call.completed`, for a tenant with a webhook endpoint.
          ...(completedEvent === undefined ? [] : [completedEvent]),
          // CallAnalysis/AnalysisJobs.ts: the job that completes the held event.
          ...(analyse
            ? [
              analysisJobs.jobPart(
                call.tenantId,
                now,
                piece`select s.id as voice_session_id, l.id as call_log_id,
                  ${completedEvent !== undefined ? COMPLETED_EVENT_ID : NULL} as outbox_id
                  from ${sql(log)} l, "voice_session_id" s`
              )
            ]
            : []),
          // CallbackTasks/CallTasks.ts (OperatorQueues, task events): the tasks the call's rules make.
          ...callTasks.streamParts(tenant, {
            tenantId: call.tenantId,
            callSid: call.callSid,
            streamSid: call.streamSid,
            direction: call.direction,
            customerPhone,
            agentName,
            at: call.endedAt,
            humanResolution: resolutionOf(call, report.mediaStatus, null),
            functionCalls: call.functionCalls
          }, now, log),
          ...alongside
        ]
        // The parts are pieces (Database/Piece.ts), walked once: the text is kept per shape, only the
        // parameters are collected, and run as they are. Still one statement: the record commits as one.
        const [text, params] = compile(composeStatement(parts, RESULT, " as notified"))
        const statement = { text, params, names: parts.map((part) => part.name), selectAt: text.lastIndexOf(RESULT) + 1 }
        const keys = call.callSid === null
          ? [`${call.tenantId}\u0000s\u0000${call.streamSid}`]
          : [`${call.tenantId}\u0000s\u0000${call.streamSid}`, `${call.tenantId}\u0000c\u0000${call.callSid}`]
        const alone = Effect.map(orRefused(execute<{ written: boolean }>(text, params)), (rows) => rows[0]?.written === true)
        const written = yield* batches.record(statement, keys, alone)
        if (!written) {
          yield* Effect.logDebug("call already recorded").pipe(Effect.annotateLogs("stream_sid", call.streamSid))
        }
        return written
      }
    ))

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
