import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { type CallSessionRecord, VoiceRecords } from "../../src/VoiceSessions/VoiceRecords.js"
import { bearer, request } from "./TestServer.js"

/** A finished call as the call owner reports it; override what a test cares about. */
export const callRecord = (tenantId: string, streamSid: string, overrides: Partial<CallSessionRecord> = {}): CallSessionRecord => ({
  tenantId,
  orgId: `org-${tenantId}`,
  streamSid,
  callSid: `CA${streamSid}`,
  agentVersionId: null,
  agentName: "Ava",
  callType: "inbound",
  customerPhone: "+15555550123",
  model: "gpt-realtime",
  voice: "alloy",
  startedAt: new Date(Date.now() - 90_000),
  endedAt: new Date(),
  status: "completed",
  transcript: [
    { role: "assistant", content: "Hello, how can I help?", timestamp: new Date().toISOString() },
    { role: "user", content: "Where is my order ORD-77?", timestamp: new Date().toISOString() }
  ],
  functionCalls: [],
  turnCount: 2,
  summary: "Asked about order ORD-77",
  escalated: false,
  resolution: "resolved",
  ...overrides
})

/** Records a call the way the calls domain does: inside its own transaction. */
export const recordCall = (record: CallSessionRecord) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const records = yield* VoiceRecords
    return yield* sql.withTransaction(records.recordCallSession(record))
  }).pipe(Effect.orDie)

/**
 * Calls served by `agentVersionId`, each evaluated with one of `scores` through the
 * automation endpoint (as the tenant would).
 */
export const seedEvaluatedCalls = (tenantId: string, token: string, agentVersionId: string, scores: ReadonlyArray<number>) =>
  Effect.forEach(scores, (score, i) =>
    Effect.gen(function*() {
      const stream = `MZ-${agentVersionId.slice(0, 8)}-${i}`
      yield* recordCall(callRecord(tenantId, stream, { agentVersionId }))
      const res = yield* request("POST", "/api/v1/automations/voice/evaluation", {
        headers: bearer(token),
        json: { session_id: stream, score }
      })
      if (res.status !== 200) return yield* Effect.dieMessage(`evaluation not recorded: ${res.text}`)
    }), { discard: true })
