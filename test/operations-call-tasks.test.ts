import { expect } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect, Layer } from "effect"
import { CallRecords, type CompletedCall } from "../src/CallLogs/CallRecords.js"
import { accountSid, newCallSid, putTenant, suiteWithFakeTwilio, twilioWebhook } from "./support/FakeTwilioServer.js"
import { createTask, expectSpecTask } from "./support/OperationsFixtures.js"
import { request } from "./support/TestServer.js"

const SID = accountSid("calltasks")
const TOKEN = "call-tasks-twilio-auth-token"
const OUR_NUMBER = "+15550006000"
const CUSTOMER = "+15557650001"
const CT = { authorization: "Bearer ct-bearer-token-0123456789" }
const QUIET = { authorization: "Bearer ct-quiet-bearer-token-0123456789" }

const t0 = new Date("2026-03-02T10:00:00.000Z")
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000)

const Tenants = Layer.effectDiscard(Effect.gen(function*() {
  yield* putTenant("ct", { webhook_url: "http://127.0.0.1:9/ct", twilio: { account_sid: SID, auth_token: TOKEN } })
  yield* putTenant("ct-quiet", { operations: { auto_tasks: { customer_abandoned: false } } })
}))

/** A status callback for an outbound call placed by `tenant` (as our outbound calls ask Twilio to send it). */
const outboundStatus = (callSid: string, callStatus: string, extra: Record<string, string> = {}) =>
  twilioWebhook("/api/v1/call-status?tenant=ct", {
    CallSid: callSid, AccountSid: SID, From: OUR_NUMBER, To: CUSTOMER, Direction: "outbound-api", CallStatus: callStatus, ...extra
  }, { authToken: TOKEN }).pipe(Effect.tap((res) => expect(res.status).toBe(200)))

const stream = (overrides: Partial<CompletedCall>): CompletedCall => ({
  tenantId: "ct", streamSid: `MZ${newCallSid().slice(2)}`, callSid: newCallSid(), direction: "inbound",
  from: CUSTOMER, to: OUR_NUMBER, agentVersionId: null, model: "gpt-realtime", voice: "verse",
  startedAt: at(0), endedAt: at(20), endReason: "caller_hangup", errorMessage: null,
  transcript: [{ role: "assistant", content: "Hello, how can I help?", timestamp: at(1) }],
  functionCalls: [], turnLatencies: [], escalated: false, escalationReason: null,
  ...overrides
})

const tasksOf = (headers: Record<string, string>, query: string) =>
  request("GET", `/api/v1/callback-tasks?${query}`, { headers }).pipe(Effect.map((res) => res.body as Array<Record<string, any>>))

const byCall = (callSid: string) => (tasks: Array<Record<string, any>>) => tasks.filter((t) => t.call_sid === callSid)

suiteWithFakeTwilio({ ALLOW_PRIVATE_OUTBOUND_URLS: "true" }, Tenants)("tasks created by calls", (it) => {
  it.effect("a call answered by a machine makes one voicemail follow-up in the default queue, however often it is reported", () =>
    Effect.gen(function*() {
      const callSid = newCallSid()
      yield* outboundStatus(callSid, "in-progress", { AnsweredBy: "machine_end_beep" })
      yield* outboundStatus(callSid, "completed", { AnsweredBy: "machine_end_beep", CallDuration: "12" })
      // The media record of that call: nobody spoke, but a machine is not an abandoning caller.
      const records = yield* CallRecords
      yield* records.recordCompletedCall(stream({ callSid, direction: "outbound", from: OUR_NUMBER, to: CUSTOMER }))
      const tasks = byCall(callSid)(yield* tasksOf(CT, "limit=200"))
      expect(tasks.map((t) => t.disposition)).toEqual(["voicemail_follow_up"])
      expectSpecTask(tasks[0]!)
      expect(tasks[0]).toMatchObject({ queue_key: "default", customer_phone: CUSTOMER, created_by: "call_rules", status: "open" })
    }))

  it.effect("an outbound call that was busy or not answered needs a human follow-up", () =>
    Effect.gen(function*() {
      const busy = newCallSid()
      yield* outboundStatus(busy, "busy")
      const unanswered = newCallSid()
      yield* outboundStatus(unanswered, "no-answer")
      const answered = newCallSid()
      yield* outboundStatus(answered, "completed", { AnsweredBy: "human" })
      const all = yield* tasksOf(CT, "disposition=human_follow_up_required&limit=200")
      expect(byCall(busy)(all).length).toBe(1)
      expect(byCall(unanswered)(all).length).toBe(1)
      expect(byCall(answered)(yield* tasksOf(CT, "limit=200"))).toEqual([])
    }))

  it.effect("a caller who hangs up before anything was resolved, a requested callback, a transfer that failed", () =>
    Effect.gen(function*() {
      const records = yield* CallRecords
      const abandoned = stream({})
      yield* records.recordCompletedCall(abandoned)
      yield* records.recordCompletedCall(abandoned)
      const resolved = stream({
        transcript: [
          { role: "assistant", content: "Hello", timestamp: at(1) },
          { role: "user", content: "Where is my order?", timestamp: at(3) }
        ],
        functionCalls: [{ name: "request_callback", arguments: { callback_at: "2026-03-03T15:00:00Z" }, result: { ok: true }, durationMs: 3, timestamp: at(4) }]
      })
      yield* records.recordCompletedCall(resolved)
      const transfer = stream({
        transcript: [{ role: "user", content: "Human please", timestamp: at(1) }, { role: "assistant", content: "Connecting", timestamp: at(2) }],
        functionCalls: [{ name: "escalate_call_to_human", arguments: {}, result: { ok: false, error: "no answer" }, durationMs: 3, timestamp: at(4) }]
      })
      yield* records.recordCompletedCall(transfer)
      const all = yield* tasksOf(CT, "limit=200")
      expect(byCall(abandoned.callSid!)(all).map((t) => t.disposition)).toEqual(["customer_abandoned"])
      const scheduled = byCall(resolved.callSid!)(all)
      expect(scheduled.map((t) => t.disposition)).toEqual(["callback_scheduled"])
      expect(scheduled[0]!.due_at).toBe("2026-03-03T15:00:00.000Z")
      expect(byCall(transfer.callSid!)(all).map((t) => t.disposition)).toEqual(["human_follow_up_required"])
      // The record writes a task's `created` event in SQL: its data is the task exactly as the API shows it.
      const sql = yield* SqlClient.SqlClient
      for (const task of [...byCall(abandoned.callSid!)(all), ...scheduled]) {
        const events = yield* sql<{ payload: Record<string, any> }>`select payload from webhook_outbox
          where tenant_id = 'ct' and event = 'voice.callback_task.created' and payload->'data'->>'id' = ${task.id}`.pipe(Effect.orDie)
        expect(events.length).toBe(1)
        expect(events[0]!.payload).toEqual({
          id: expect.stringMatching(/^msg_[0-9a-f]{32}$/),
          event: "voice.callback_task.created",
          timestamp: task.created_at,
          tenant_id: "ct",
          data: (yield* request("GET", `/api/v1/callback-tasks/${task.id}`, { headers: CT })).body
        })
      }
    }))

  it.effect("a tenant that turned a rule off gets no task from it; no task lands in another tenant", () =>
    Effect.gen(function*() {
      const records = yield* CallRecords
      const quiet = stream({ tenantId: "ct-quiet" })
      yield* records.recordCompletedCall(quiet)
      expect(yield* tasksOf(QUIET, "limit=200")).toEqual([])
      expect(byCall(quiet.callSid!)(yield* tasksOf(CT, "limit=200"))).toEqual([])
    }))

  it.effect("a call placed by auto-dispatch reports back to its task instead of making a new one", () =>
    Effect.gen(function*() {
      const task = yield* createTask(CT, { disposition: "callback_requested", customer_phone: CUSTOMER })
      const callSid = newCallSid()
      const sql = yield* SqlClient.SqlClient
      // As the dispatch sweep leaves it after Twilio accepted the call.
      yield* sql`update callback_tasks set last_dispatch_call_sid = ${callSid}, last_dispatch_status = 'initiated',
        dispatch_attempt_count = 1 where id = ${task.id}`.pipe(Effect.orDie)
      yield* outboundStatus(callSid, "busy")
      expect(byCall(callSid)(yield* tasksOf(CT, "limit=200"))).toEqual([])
      const shown = yield* request("GET", `/api/v1/callback-tasks/${task.id}`, { headers: CT })
      expect(shown.body).toMatchObject({ last_dispatch_status: "busy", last_dispatch_call_sid: callSid, status: "open" })
      // A machine's answer stays the attempt's outcome when the call then completes.
      const second = newCallSid()
      yield* sql`update callback_tasks set last_dispatch_call_sid = ${second} where id = ${task.id}`.pipe(Effect.orDie)
      yield* outboundStatus(second, "in-progress", { AnsweredBy: "machine_start" })
      yield* outboundStatus(second, "completed")
      expect(byCall(second)(yield* tasksOf(CT, "limit=200"))).toEqual([])
      expect((yield* request("GET", `/api/v1/callback-tasks/${task.id}`, { headers: CT })).body.last_dispatch_status).toBe("voicemail")
    }))
})
