import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import type { DatabaseUnavailable, InvalidInput } from "../Database/Errors.js"
import type { StatementPart } from "../Database/StatementParts.js"
import { type OutcomeWrite, OutcomesRepo } from "../VoiceOutcomes/Repo.js"
import { type SessionWrite, SessionsRepo } from "./Repo.js"
import { Ids } from "../Ids.js"
import type { CallDirection } from "../CallLogs/CallKey.js"
import { piece } from "../Database/Piece.js"

/** A finished call as the call's owner knows it when the call ends. */
export interface CallSessionRecord {
  readonly tenantId: string
  readonly orgId: string | null
  readonly streamSid: string
  readonly callSid: string | null
  readonly agentVersionId: string | null
  readonly agentName: string | null
  readonly callType: CallDirection
  readonly customerPhone: string | null
  readonly model: string | null
  readonly voice: string | null
  readonly startedAt: Date
  readonly endedAt: Date
  readonly status: string
  readonly transcript: ReadonlyArray<{ readonly role: string; readonly content: string; readonly timestamp: string }>
  readonly functionCalls: ReadonlyArray<unknown>
  readonly turnCount: number
  readonly summary: string | null
  readonly escalated: boolean
  readonly resolution: string
  /** The `call_logs` row written in the same transaction; evals link to it. */
  readonly callLogId?: string | null
}

/** Read from the call log row when the session is a part of the call's one-statement record. */
type FromCallLog = "status" | "summary" | "callLogId" | "resolution"

/** A finished call as `sessionParts` takes it: the rest is read from the call log part. */
export type RecordedCallSession = Omit<CallSessionRecord, FromCallLog>

// The session parts of `sessionParts`, by name.
const VOICE_SESSION = piece`"voice_session"`
const VOICE_SESSION_ID = piece`"voice_session_id".id`

/** What a resolved call bills as; anything else is not billable. */
export const RESOLVED_CALL_SKU = "voice_ai_resolution"

const billingOf = (record: CallSessionRecord) =>
  record.resolution === "resolved" && record.status === "completed"
    ? { billableSku: RESOLVED_CALL_SKU, billingStatus: "pending_emit" }
    : { billableSku: null, billingStatus: "not_billable" }

const durationMsOf = (record: RecordedCallSession) => Math.max(0, record.endedAt.getTime() - record.startedAt.getTime())

/** The session row, but for what comes from the call log. */
const sessionRow = (record: RecordedCallSession, id: string): Omit<SessionWrite, "status" | "summary" | "callLogId"> => ({
  id,
  tenantId: record.tenantId,
  orgId: record.orgId,
  streamId: record.streamSid,
  callSid: record.callSid,
  agentVersionId: record.agentVersionId,
  agentName: record.agentName,
  callType: record.callType,
  customerPhone: record.customerPhone,
  model: record.model,
  voice: record.voice,
  transcript: record.transcript,
  functionCalls: record.functionCalls,
  metadata: {},
  tags: [],
  turnCount: record.turnCount,
  sentiment: null,
  durationMs: durationMsOf(record),
  escalated: record.escalated,
  startedAt: record.startedAt,
  endedAt: record.endedAt
})

/** The outcome row, but for what comes from the call log and the session. */
const outcomeRow = (
  record: RecordedCallSession,
  id: string
): Omit<OutcomeWrite, "voiceSessionId" | "resolution" | "billingStatus" | "billableSku" | "disposition"> => ({
  id,
  tenantId: record.tenantId,
  orgId: record.orgId,
  streamSid: record.streamSid,
  callSid: record.callSid,
  callType: record.callType,
  customerPhone: record.customerPhone,
  agentName: record.agentName,
  agentVersionId: record.agentVersionId,
  outcomeSource: "call",
  escalated: record.escalated,
  durationSeconds: Math.round(durationMsOf(record) / 1000),
  occurredAt: record.endedAt
})

/**
 * Writes what a call leaves behind in this domain: its voice session and canonical
 * outcome. Runs in the caller's (ambient) transaction so the session, the call log and
 * the outbox rows commit together; per (tenant, stream) it is idempotent.
 */
export class VoiceRecords extends Effect.Service<VoiceRecords>()("VoiceRecords", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const sessions = yield* SessionsRepo
    const outcomes = yield* OutcomesRepo
    const ids = yield* Ids

    const recordCallSession = Effect.fn("VoiceRecords.recordCallSession")(
      function*(record: CallSessionRecord): Effect.fn.Return<{ sessionId: string; outcomeId: string }, DatabaseUnavailable | InvalidInput> {
        const sessionId = yield* sessions.upsertFinished({
          ...sessionRow(record, yield* ids.uuid),
          status: record.status,
          summary: record.summary,
          callLogId: record.callLogId ?? null
        })
        const outcomeId = yield* outcomes.insertOnce({
          ...outcomeRow(record, yield* ids.uuid),
          voiceSessionId: sessionId,
          resolution: record.resolution,
          ...billingOf(record),
          disposition: {
            status: record.status,
            resolution: record.resolution,
            escalated: record.escalated,
            turn_count: record.turnCount,
            function_call_count: record.functionCalls.length
          }
        })
        return { sessionId, outcomeId }
      }
    )

    /**
     * `recordCallSession` as parts of the call's one-statement record (CallRecords): the session
     * and its outcome, one each per row of the part named `log` (the call log row, with its
     * `id`, `status`, `summary` and the call's `resolution`). The part `voice_session_id` holds
     * the session's id (written now, or finished before: a replay writes nothing).
     */
    const sessionParts = (record: RecordedCallSession, log: string): ReadonlyArray<StatementPart> => {
      const from = piece`${sql(log)}`
      const column = (name: string) => piece`${from}.${sql(name)}`
      const [status, resolution] = [column("status"), column("resolution")]
      // billingOf, on the log row's status.
      const billable = piece`${resolution} = 'resolved' and ${status} = 'completed'`
      return [
        {
          name: "voice_session",
          statement: sessions.upsertFinishedFrom(
            { ...sessionRow(record, ids.nextUuid()), status, summary: column("summary"), callLogId: column("id") },
            from
          )
        },
        {
          name: "voice_session_id",
          statement: sessions.idFrom(record.tenantId, record.streamSid, VOICE_SESSION, from)
        },
        {
          name: "voice_outcome",
          statement: outcomes.insertOnceFrom({
            ...outcomeRow(record, ids.nextUuid()),
            voiceSessionId: VOICE_SESSION_ID,
            resolution,
            billingStatus: piece`case when ${billable} then 'pending_emit' else 'not_billable' end`,
            billableSku: piece`case when ${billable} then ${RESOLVED_CALL_SKU}::text end`,
            disposition: piece`jsonb_build_object('status', ${status}, 'resolution', ${resolution},
              'escalated', ${record.escalated}::boolean, 'turn_count', ${record.turnCount}::int,
              'function_call_count', ${record.functionCalls.length}::int)`
          }, piece`${from}, "voice_session_id"`)
        }
      ]
    }

    return {
      recordCallSession,
      sessionParts,
      /** For billing delivery (Outbox): pending_emit -> emitted | failed. */
      setBillingStatus: (tenantId: string, outcomeId: string, billingStatus: "pending_emit" | "emitted" | "failed") =>
        outcomes.setBillingStatus(tenantId, outcomeId, billingStatus)
    } as const
  }),
  dependencies: [SessionsRepo.Default, OutcomesRepo.Default]
}) {}
