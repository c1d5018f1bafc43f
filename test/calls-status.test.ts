import { expect } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { CallRecords, type CompletedCall } from "../src/CallLogs/CallRecords.js"
import { accountSid, agentWithRoute, newCallSid, putTenant, suiteWithFakeTwilio, twilioWebhook } from "./support/FakeTwilioServer.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { request } from "./support/TestServer.js"

const SID = accountSid("status")
const TOKEN = "status-twilio-auth-token"
const NUMBER = "+15550004000"
const CALLER = "+15557654321"

const t0 = new Date("2026-03-02T10:00:00.000Z")
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000)

const media = (callSid: string | null, streamSid: string, overrides: Partial<CompletedCall> = {}): CompletedCall => ({
  tenantId: "acme",
  streamSid,
  callSid,
  direction: "inbound",
  from: CALLER,
  to: NUMBER,
  agentVersionId: null,
  model: "gpt-realtime",
  voice: "verse",
  startedAt: at(0),
  endedAt: at(30),
  endReason: "caller_hangup",
  errorMessage: null,
  transcript: [
    { role: "assistant", content: "Hello, Acme dental.", timestamp: at(1) },
    { role: "user", content: "I need to move my appointment.", timestamp: at(5) }
  ],
  functionCalls: [{ name: "check_business_hours", arguments: {}, result: { open: true }, durationMs: 12.4, timestamp: at(6) }],
  turnLatencies: [{ llmFirstTokenMs: 300, firstAudioMs: 700 }, { llmFirstTokenMs: 500, firstAudioMs: null }],
  escalated: false,
  escalationReason: null,
  ...overrides
})

const statusParams = (callSid: string, callStatus: string, extra: Record<string, string> = {}) => ({
  CallSid: callSid,
  AccountSid: SID,
  From: CALLER,
  To: NUMBER,
  Direction: "inbound",
  CallStatus: callStatus,
  ...extra
})

const headers = { authorization: "Bearer acme-bearer-token-0123456789" }

const logOf = (callSid: string) =>
  Effect.gen(function*() {
    const list = yield* request("GET", `/api/v1/call-logs?call_sid=${callSid}`, { headers })
    expect(list.body.calls).toHaveLength(1)
    const detail = yield* request("GET", `/api/v1/call-logs/${list.body.calls[0].id}`, { headers })
    expect(detail.status).toBe(200)
    return detail.body.call
  })

/** What must not depend on the order the three writers arrived in. */
const converged = (call: Record<string, unknown>) => {
  const { id: _id, call_sid: _c, stream_sid: _s, created_at: _cr, updated_at: _u, started_at: _st, ...rest } = call
  return rest
}

/** acme with its own Twilio account and a routed number. */
const Acme = Layer.effectDiscard(
  Effect.gen(function*() {
    yield* putTenant("acme", {
      org_id: "org-acme",
      // Events are enqueued only for a tenant with an endpoint (this one never resolves).
      webhook_url: "https://hooks.invalid/acme",
      twilio: { account_sid: SID, auth_token: TOKEN }
    })
    yield* agentWithRoute("acme", { phoneNumber: NUMBER })
  })
)

suiteWithFakeTwilio({}, Acme)("call status callbacks and call records", (it) => {

  it.effect("the call log converges whether the status callback comes before or after the media record", () =>
    Effect.gen(function*() {
      const records = yield* CallRecords
      const status = (callSid: string) =>
        twilioWebhook("/api/v1/call-status", statusParams(callSid, "completed", { CallDuration: "31" }), { authToken: TOKEN })

      // webhook -> media -> status
      const first = newCallSid()
      yield* twilioWebhook("/api/v1/incoming-call", statusParams(first, "ringing"), { authToken: TOKEN })
      yield* records.recordCompletedCall(media(first, "MZ-first"))
      const ack = yield* status(first)
      expect(ack.status).toBe(200)
      expectSpecSchema(ack.body, "CallStatusAckResponse")
      expect(ack.body.ok).toBe(true)

      // status -> media (no voice webhook seen at all)
      const second = newCallSid()
      yield* status(second)
      yield* records.recordCompletedCall(media(second, "MZ-second"))

      // webhook -> status -> media
      const third = newCallSid()
      yield* twilioWebhook("/api/v1/incoming-call", statusParams(third, "ringing"), { authToken: TOKEN })
      yield* status(third)
      yield* records.recordCompletedCall(media(third, "MZ-third"))

      const logs = [yield* logOf(first), yield* logOf(second), yield* logOf(third)]
      for (const log of logs) expectSpecSchema(log, "CallLog")
      expect(logs[0]).toMatchObject({
        status: "completed",
        outcome: "answered",
        duration_seconds: 31,
        direction: "inbound",
        from_number: CALLER,
        to_number: NUMBER,
        stream_sid: "MZ-first",
        ended_at: at(30).toISOString(),
        started_at: at(0).toISOString(),
        model: "gpt-realtime",
        voice: "verse",
        escalated: false
      })
      expect(logs[0].transcript).toEqual([
        { role: "assistant", content: "Hello, Acme dental.", timestamp: at(1).toISOString() },
        { role: "user", content: "I need to move my appointment.", timestamp: at(5).toISOString() }
      ])
      expect(logs[0].function_calls[0]).toMatchObject({ name: "check_business_hours", duration_ms: 12 })
      expect(converged(logs[1])).toEqual(converged(logs[0]))
      expect(converged(logs[2])).toEqual(converged(logs[0]))

      // voice.call.started: once per call the voice webhook saw (not for the one it never saw).
      const sql = yield* SqlClient.SqlClient
      const started = yield* sql<{ call_sid: string; n: number }>`
        select payload->'data'->>'call_sid' as call_sid, count(*)::int as n from webhook_outbox
        where tenant_id = 'acme' and event = 'voice.call.started'
          and payload->'data'->>'call_sid' in (${first}, ${second}, ${third})
        group by 1 order by 1`
      expect(started).toEqual([{ call_sid: first, n: 1 }, { call_sid: third, n: 1 }].sort((a, b) => a.call_sid.localeCompare(b.call_sid)))
    }))

  it.effect("a stream is recorded once: one call log, one voice session, one voice.call.completed event", () =>
    Effect.gen(function*() {
      const records = yield* CallRecords
      const sql = yield* SqlClient.SqlClient
      const callSid = newCallSid()
      yield* records.recordCompletedCall(media(callSid, "MZ-once", { escalated: true, escalationReason: "asked for a human" }))
      yield* records.recordCompletedCall(media(callSid, "MZ-once", { endReason: "error" }))
      const log = yield* logOf(callSid)
      expect(log).toMatchObject({ status: "escalated", escalated: true, escalation_reason: "asked for a human" })
      const sessions = yield* sql<{ n: number }>`select count(*) as n from voice_sessions where stream_id = 'MZ-once'`
      expect(sessions[0]!.n).toBe(1)
      const events = yield* sql<{ payload: any }>`
        select payload from webhook_outbox where tenant_id = 'acme' and payload->'data'->>'stream_sid' = 'MZ-once'`
      expect(events).toHaveLength(1)
      expectSpecSchema(events[0]!.payload, "WebhookEvent")
      expectSpecSchema(events[0]!.payload.data, "WebhookCallCompletedPayload")
      expect(events[0]!.payload).toMatchObject({
        event: "voice.call.completed",
        tenant_id: "acme",
        data: {
          call_sid: callSid,
          stream_sid: "MZ-once",
          status: "escalated",
          escalated: true,
          duration_seconds: 30,
          function_call_count: 1,
          transcript_turn_count: 2,
          direction: "inbound"
        }
      })
      const stats = yield* sql<{ turn_latency_stats: any; agent_version_id: string | null }>`
        select turn_latency_stats, agent_version_id from call_logs where stream_sid = 'MZ-once'`
      expect(stats[0]!.turn_latency_stats.summary.llm_first_token_ms).toMatchObject({ count: 2, avg: 400, p50: 400, max: 500 })
      expect(stats[0]!.turn_latency_stats.summary.e2e_first_audio_ms).toMatchObject({ count: 1, p95: 700 })
    }))

  it.effect("outcomes: busy, no answer, voicemail; callbacks never move a call backwards", () =>
    Effect.gen(function*() {
      const outbound = (callSid: string, callStatus: string, extra: Record<string, string> = {}) =>
        twilioWebhook(
          "/api/v1/call-status?tenant=acme",
          statusParams(callSid, callStatus, { Direction: "outbound-api", From: NUMBER, To: CALLER, ...extra }),
          { authToken: TOKEN }
        )
      const busy = newCallSid()
      yield* outbound(busy, "ringing")
      yield* outbound(busy, "busy")
      expect(yield* logOf(busy)).toMatchObject({ status: "busy", outcome: "busy", direction: "outbound", ended_at: expect.any(String) })

      const unanswered = newCallSid()
      yield* outbound(unanswered, "no-answer")
      yield* outbound(unanswered, "ringing") // late, out of order
      expect(yield* logOf(unanswered)).toMatchObject({ status: "no_answer", outcome: "no_answer" })

      const machine = newCallSid()
      yield* outbound(machine, "in-progress", { AnsweredBy: "machine_end_beep" })
      expect(yield* logOf(machine)).toMatchObject({ status: "in_progress", outcome: null, answered_by: "machine_end_beep" })
      yield* outbound(machine, "completed", {
        CallDuration: "12",
        RecordingUrl: "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1"
      })
      expect(yield* logOf(machine)).toMatchObject({
        status: "completed",
        outcome: "voicemail",
        duration_seconds: 12,
        recording_url: "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1"
      })
    }))

  it.effect("status callbacks are signed, need CallSid and CallStatus, and ignore unknown numbers", () =>
    Effect.gen(function*() {
      const callSid = newCallSid()
      const forged = yield* twilioWebhook("/api/v1/call-status", statusParams(callSid, "completed"), { authToken: "nope" })
      expect(forged.status).toBe(401)
      expect(forged.headers["content-type"]).toContain("text/plain")
      const { CallStatus: _, ...noStatus } = statusParams(callSid, "completed")
      const bad = yield* twilioWebhook("/api/v1/call-status", noStatus, { authToken: TOKEN })
      expect(bad.status).toBe(400)
      expect(bad.text).toContain("CallStatus")
      const unknown = yield* twilioWebhook(
        "/api/v1/call-status",
        { ...statusParams(callSid, "completed"), To: "+15559998888", AccountSid: accountSid("stranger") }
      )
      expect(unknown.status).toBe(200)
      expect(unknown.body).toEqual({ ok: false })
    }))
})
