import { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"
import { orRefused, orUnavailable } from "../Database/Errors.js"
import { WebhookEvents, WebhookOutbox } from "../Outbox/WebhookOutbox.js"
import type { CallKey } from "./CallKey.js"
import { Ids } from "../Ids.js"
import type { CallDirection } from "./CallKey.js"
import { piece } from "../Database/Piece.js"

/** The voice webhook saw the call: who, which way, which agent version. */
export interface CallSeen {
  readonly tenantId: string
  readonly callSid: string
  readonly direction: CallDirection
  readonly from: string | null
  readonly to: string | null
  readonly agentVersionId: string | null
  readonly twilioStatus: string | null
  readonly at: Date
}

/** A Twilio status callback. */
export interface StatusReport {
  readonly tenantId: string
  readonly callSid: string
  readonly direction: CallDirection
  readonly from: string | null
  readonly to: string | null
  readonly twilioStatus: string
  readonly durationSeconds: number | null
  readonly answeredBy: string | null
  readonly recordingUrl: string | null
  readonly at: Date
}

/** The media bridge's account of a finished stream (already shaped for the row). */
export interface MediaReport extends CallKey {
  readonly model: string
  readonly voice: string
  readonly startedAt: Date
  readonly endedAt: Date
  readonly mediaStatus: "completed" | "failed" | "escalated"
  readonly endReason: string
  readonly errorMessage: string | null
  readonly escalated: boolean
  readonly escalationReason: string | null
  readonly transcript: ReadonlyArray<{ readonly role: string; readonly content: string; readonly timestamp: string }>
  readonly transcriptText: string
  readonly functionCalls: ReadonlyArray<unknown>
  readonly turnLatencyStats: unknown
  readonly systemPromptKey?: string | null
}

/** A transfer to a person, as the escalation tool (or a supervisor) made it. */
export interface Escalation {
  readonly tenantId: string
  readonly callSid: string
  readonly streamSid: string | null
  readonly target: string
  readonly reason: string | null
  readonly initiatedBy: "ai" | "supervisor"
  readonly at: Date
}

/** pg would send a JS array as a PostgreSQL array literal: JSON goes as text, cast to jsonb. */
const jsonb = (value: unknown) => JSON.stringify(value ?? null)

/**
 * Rank of a Twilio CallStatus: a callback never moves a call backwards (callbacks can
 * arrive out of order) and a terminal status is kept once seen.
 */
const rank = (column: string) => `(case ${column}
  when 'queued' then 1 when 'initiated' then 2 when 'ringing' then 3 when 'in-progress' then 4
  when 'completed' then 10 when 'busy' then 10 when 'no-answer' then 10 when 'failed' then 10 when 'canceled' then 10
  else 0 end)`

/**
 * Writers of `call_logs`. Each source owns its columns and merges into the row keyed by
 * (tenant_id, call_sid), so the webhook, status callbacks and the media record converge
 * in whatever order they arrive.
 */
export class CallLogWrites extends Effect.Service<CallLogWrites>()("CallLogWrites", {
  effect: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const ids = yield* Ids
    const outbox = yield* WebhookOutbox
    const keepHigher = sql.unsafe(
      `case when ${rank("excluded.twilio_status")} > ${rank("call_logs.twilio_status")}
         then excluded.twilio_status else call_logs.twilio_status end`
    )

    /**
     * The first sighting of a call also enqueues `voice.call.started`, in the same transaction.
     * It is on the webhook's critical path (before the TwiML): a tenant without a webhook URL
     * gets no event, so its insert runs alone (one round trip instead of BEGIN, insert, COMMIT).
     */
    const callSeen = (seen: CallSeen) =>
      Effect.flatMap(outbox.mayEnqueue(seen.tenantId), (events) => events ? callSeenWithEvent(seen) : Effect.asVoid(upsertSeen(seen)))

    /**
     * False when a first sighting of the tenant's calls enqueues nothing (no webhook URL; no SQL):
     * the admission of an inbound call may then record the sighting itself (`Limits.admitInbound`).
     */
    const sightingAnnounced = (tenantId: string) => outbox.mayEnqueue(tenantId)

    /** The merge is `call_log_seen` (migrations/0028): the admission of an inbound call runs it too. */
    const upsertSeen = (seen: CallSeen) =>
      Effect.flatMap(ids.uuid, (id) => orRefused(sql<{ inserted: boolean }>`
        select call_log_seen(${id}, ${seen.tenantId}, ${seen.callSid}, ${seen.direction}, ${seen.from}, ${seen.to},
                             ${seen.agentVersionId}, ${seen.twilioStatus}, ${seen.at}) as inserted`))

    const callSeenWithEvent = (seen: CallSeen) =>
      upsertSeen(seen).pipe(
        Effect.flatMap((rows) =>
          rows[0]?.inserted === true
            ? outbox.enqueue(seen.tenantId, WebhookEvents.callStarted, {
              call_sid: seen.callSid,
              direction: seen.direction,
              from_number: seen.from,
              to_number: seen.to,
              agent_version_id: seen.agentVersionId,
              started_at: seen.at.toISOString()
            }, seen.at)
            : Effect.succeed(false)
        ),
        sql.withTransaction,
        orRefused,
        Effect.asVoid
      )

    const statusReported = (report: StatusReport) => {
      const terminal = ["completed", "busy", "no-answer", "failed", "canceled"].includes(report.twilioStatus)
      return Effect.flatMap(ids.uuid, (id) => orRefused(sql`
        insert into call_logs (id, tenant_id, call_sid, direction, from_number, to_number, twilio_status,
                               twilio_duration_seconds, twilio_ended_at, answered_by, recording_url, first_seen_at)
        values (${id}, ${report.tenantId}, ${report.callSid}, ${report.direction}, ${report.from},
                ${report.to}, ${report.twilioStatus}, ${report.durationSeconds}, ${terminal ? report.at : null},
                ${report.answeredBy}, ${report.recordingUrl}, ${report.at})
        on conflict (tenant_id, call_sid) where call_sid is not null do update set
          twilio_status = ${keepHigher},
          twilio_duration_seconds = coalesce(excluded.twilio_duration_seconds, call_logs.twilio_duration_seconds),
          twilio_ended_at = coalesce(call_logs.twilio_ended_at, excluded.twilio_ended_at),
          answered_by = coalesce(excluded.answered_by, call_logs.answered_by),
          recording_url = coalesce(excluded.recording_url, call_logs.recording_url),
          from_number = coalesce(call_logs.from_number, excluded.from_number),
          to_number = coalesce(call_logs.to_number, excluded.to_number),
          first_seen_at = least(call_logs.first_seen_at, excluded.first_seen_at),
          updated_at = now()`)).pipe(Effect.asVoid)
    }

    const mediaValues = (id: string, report: MediaReport) => piece`
      (${id}, ${report.tenantId}, ${report.callSid}, ${report.streamSid}, ${report.direction},
       ${report.from}, ${report.to}, ${report.agentVersionId}, ${report.model}, ${report.voice},
       ${report.startedAt}, ${report.startedAt}, ${report.endedAt}, ${report.mediaStatus}, ${report.endReason},
       ${report.errorMessage}, ${report.escalated}, ${report.escalationReason}, ${jsonb(report.transcript)}::jsonb,
       ${report.transcriptText}, ${report.transcript.length}, ${jsonb(report.functionCalls)}::jsonb,
       ${report.functionCalls.length}, ${jsonb(report.turnLatencyStats)}::jsonb, ${report.systemPromptKey ?? null})`

    const insertColumns = piece`(id, tenant_id, call_sid, stream_sid, direction, from_number, to_number,
      agent_version_id, model, voice, first_seen_at, media_started_at, media_ended_at, media_status, end_reason,
      error_message, escalated, escalation_reason, transcript, transcript_text, transcript_length, function_calls,
      function_call_count, turn_latency_stats, system_prompt_key)`

    /** The row already holds an earlier stream of this call: its transcript and tool calls are kept. */
    const continued = sql.unsafe("call_logs.media_ended_at is not null")

    /** The row as the media write left it, as the record's later parts read it (`recorded_call`). */
    const returning = piece`returning id, call_sid, status, duration_seconds, direction, from_number, to_number, summary, answered_by`

    /**
     * The insert that records the stream once: `returning` the row, or nothing when this stream
     * (or the call's stream) was already recorded. The first part, and the gate, of the call's
     * one-statement record (CallRecords.recordCompletedCall).
     */
    const mediaRecordedStatement = (id: string, report: MediaReport) =>
      report.callSid === null
        ? piece`insert into call_logs ${insertColumns} values ${mediaValues(id, report)}
            on conflict (tenant_id, stream_sid) where stream_sid is not null do nothing ${returning}`
        : piece`insert into call_logs ${insertColumns} values ${mediaValues(id, report)}
            on conflict (tenant_id, call_sid) where call_sid is not null do update set
              stream_sid = excluded.stream_sid,
              from_number = coalesce(call_logs.from_number, excluded.from_number),
              to_number = coalesce(call_logs.to_number, excluded.to_number),
              agent_version_id = coalesce(excluded.agent_version_id, call_logs.agent_version_id),
              model = excluded.model, voice = excluded.voice,
              media_started_at = coalesce(call_logs.media_started_at, excluded.media_started_at),
              media_ended_at = excluded.media_ended_at,
              media_status = case when call_logs.escalated and excluded.media_status = 'completed' then 'escalated'
                else excluded.media_status end,
              end_reason = case when call_logs.escalated and excluded.end_reason in ('stop', 'caller_hangup') then 'escalated'
                else excluded.end_reason end,
              error_message = excluded.error_message,
              escalated = call_logs.escalated or excluded.escalated,
              escalation_reason = coalesce(excluded.escalation_reason, call_logs.escalation_reason),
              transcript = case when ${continued} then call_logs.transcript || excluded.transcript else excluded.transcript end,
              transcript_text = case when ${continued} then concat_ws(E'\n', nullif(call_logs.transcript_text, ''), nullif(excluded.transcript_text, ''))
                else excluded.transcript_text end,
              transcript_length = case when ${continued} then call_logs.transcript_length + excluded.transcript_length
                else excluded.transcript_length end,
              function_calls = case when ${continued} then call_logs.function_calls || excluded.function_calls else excluded.function_calls end,
              function_call_count = case when ${continued} then call_logs.function_call_count + excluded.function_call_count
                else excluded.function_call_count end,
              turn_latency_stats = excluded.turn_latency_stats,
              system_prompt_key = coalesce(excluded.system_prompt_key, call_logs.system_prompt_key),
              first_seen_at = least(call_logs.first_seen_at, excluded.first_seen_at),
              updated_at = now()
            -- Once per stream; a later stream of the same call (back from an unanswered
            -- transfer) continues the record.
            where call_logs.media_ended_at is null
              or (call_logs.stream_sid is distinct from excluded.stream_sid
                and excluded.media_started_at >= call_logs.media_ended_at)
            ${returning}`

    /**
     * An escalation by the tool: shown at once, kept when the media record arrives, and
     * announced (`voice.call.escalated`, the spec's WebhookEscalationPayload) in the same transaction.
     */
    const markEscalated = (escalation: Escalation) =>
      orRefused(sql<{ from_number: string | null }>`
        update call_logs set escalated = true, escalation_reason = coalesce(${escalation.reason}, escalation_reason),
          -- A stream already recorded as stopped stopped because of this transfer.
          end_reason = case when media_ended_at is not null and end_reason in ('stop', 'caller_hangup') then 'escalated'
            else end_reason end,
          media_status = case when media_status = 'completed' then 'escalated' else media_status end,
          updated_at = now()
        where tenant_id = ${escalation.tenantId} and call_sid = ${escalation.callSid}
        returning from_number`).pipe(
        Effect.flatMap((rows) =>
          outbox.enqueue(escalation.tenantId, WebhookEvents.callEscalated, {
            stream_sid: escalation.streamSid ?? "",
            call_sid: escalation.callSid,
            from_number: rows[0]?.from_number ?? null,
            target: escalation.target,
            initiated_by: escalation.initiatedBy,
            reason: escalation.reason
          }, escalation.at)
        ),
        sql.withTransaction,
        orUnavailable,
        Effect.asVoid
      )

    return { callSeen, sightingAnnounced, statusReported, mediaRecordedStatement, markEscalated } as const
  }),
  dependencies: [WebhookOutbox.Default]
}) {}
