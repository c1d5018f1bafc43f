import { Effect, Option } from "effect"
import type { DatabaseUnavailable, InvalidInput } from "../Database/Errors.js"
import { OutcomesRepo } from "../VoiceOutcomes/Repo.js"
import { SessionsRepo } from "./Repo.js"
import { Ids } from "../Ids.js"
import type { CallDirection } from "../CallLogs/CallKey.js"

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

/** What a resolved call bills as; anything else is not billable. */
export const RESOLVED_CALL_SKU = "voice_ai_resolution"

const billingOf = (record: CallSessionRecord) =>
  record.resolution === "resolved" && record.status === "completed"
    ? { billableSku: RESOLVED_CALL_SKU, billingStatus: "pending_emit" }
    : { billableSku: null, billingStatus: "not_billable" }

/**
 * Writes what a call leaves behind in this domain: its voice session and canonical
 * outcome. Runs in the caller's (ambient) transaction so the session, the call log and
 * the outbox rows commit together; per (tenant, stream) it is idempotent.
 */
export class VoiceRecords extends Effect.Service<VoiceRecords>()("VoiceRecords", {
  effect: Effect.gen(function*() {
    const sessions = yield* SessionsRepo
    const outcomes = yield* OutcomesRepo
    const ids = yield* Ids

    const recordCallSession = Effect.fn("VoiceRecords.recordCallSession")(
      function*(record: CallSessionRecord): Effect.fn.Return<{ sessionId: string; outcomeId: string }, DatabaseUnavailable | InvalidInput> {
        const durationMs = Math.max(0, record.endedAt.getTime() - record.startedAt.getTime())
        const sessionId = yield* sessions.upsertFinished({
          id: yield* ids.uuid,
          tenantId: record.tenantId,
          orgId: record.orgId,
          streamId: record.streamSid,
          callSid: record.callSid,
          callLogId: record.callLogId ?? null,
          agentVersionId: record.agentVersionId,
          agentName: record.agentName,
          callType: record.callType,
          customerPhone: record.customerPhone,
          model: record.model,
          voice: record.voice,
          status: record.status,
          transcript: record.transcript,
          functionCalls: record.functionCalls,
          metadata: {},
          tags: [],
          turnCount: record.turnCount,
          summary: record.summary,
          sentiment: null,
          durationMs,
          escalated: record.escalated,
          startedAt: record.startedAt,
          endedAt: record.endedAt
        })
        const billing = billingOf(record)
        const outcomeId = yield* outcomes.insertOnce({
          id: yield* ids.uuid,
          tenantId: record.tenantId,
          orgId: record.orgId,
          voiceSessionId: sessionId,
          streamSid: record.streamSid,
          callSid: record.callSid,
          callType: record.callType,
          customerPhone: record.customerPhone,
          agentName: record.agentName,
          agentVersionId: record.agentVersionId,
          resolution: record.resolution,
          billingStatus: billing.billingStatus,
          billableSku: billing.billableSku,
          outcomeSource: "call",
          escalated: record.escalated,
          disposition: {
            status: record.status,
            resolution: record.resolution,
            escalated: record.escalated,
            turn_count: record.turnCount,
            function_call_count: record.functionCalls.length
          },
          durationSeconds: Math.round(durationMs / 1000),
          occurredAt: record.endedAt
        })
        return { sessionId, outcomeId }
      }
    )

    /** A finished session as the post-call analysis reads it: its stream, turns and agent version. */
    const analysisInput = (tenantId: string, sessionId: string) =>
      Effect.map(sessions.forAnalysis(tenantId, sessionId), Option.map((row) => ({
        streamSid: row.stream_id,
        agentVersionId: row.agent_version_id,
        transcript: Array.isArray(row.transcript)
          ? row.transcript.flatMap((turn: unknown) =>
            typeof turn === "object" && turn !== null && "content" in turn && typeof turn.content === "string"
              ? [{ role: "role" in turn && typeof turn.role === "string" ? turn.role : "user", content: turn.content }]
              : []
          )
          : []
      })))

    /** The analysis's labels: summary and sentiment on the session, intent and risk on its outcome (ambient transaction). */
    const recordAnalysis = (tenantId: string, sessionId: string, labels: {
      readonly summary: string
      readonly sentiment: string
      readonly primaryIntent: string
      readonly riskLevel: string
    }) =>
      Effect.zipRight(
        sessions.analysed(tenantId, sessionId, labels.summary, labels.sentiment),
        outcomes.classify(tenantId, sessionId, labels.primaryIntent, labels.riskLevel)
      )

    return {
      recordCallSession,
      analysisInput,
      recordAnalysis,
      /** For billing delivery (Outbox): pending_emit -> emitted | failed. */
      setBillingStatus: (tenantId: string, outcomeId: string, billingStatus: "pending_emit" | "emitted" | "failed") =>
        outcomes.setBillingStatus(tenantId, outcomeId, billingStatus)
    } as const
  }),
  dependencies: [SessionsRepo.Default, OutcomesRepo.Default]
}) {}
