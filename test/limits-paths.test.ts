import { expect } from "@effect/vitest"
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import {
  accountSid,
  agentWithRoute,
  FakeTwilioServer,
  newCallSid,
  putTenant,
  suiteWithFakeTwilio,
  twilioWebhook
} from "./support/FakeTwilioServer.js"
import { eventuallyHolds } from "./support/Eventually.js"
import { createTask, putQueue } from "./support/OperationsFixtures.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, request } from "./support/TestServer.js"

const FROM = "+15550007300"

const tenant = (id: string, limits: Record<string, unknown> = {}, more: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    const twilio = yield* FakeTwilioServer
    twilio.accounts.set(accountSid(id), `${id}-twilio-token`)
    return yield* putTenant(id, {
      twilio: { account_sid: accountSid(id), auth_token: `${id}-twilio-token`, from_number: FROM },
      limits,
      ...more
    })
  })

const makeCall = (headers: Record<string, string>, to: string) =>
  request("POST", "/api/v1/make-call", { headers, json: { to } })

const dialsTo = (to: string) => Effect.map(FakeTwilioServer, (t) => t.requests.filter((r) => r.form.To === to).length)

// The per-replica cap is 2 here; tenants have higher caps of their own.
suiteWithFakeTwilio({ MAX_CALLS_PER_REPLICA: "2", OPERATOR_DISPATCH_SWEEP_INTERVAL_SECS: "0" })("limits on every dialling path", (it) => {
  it.effect("translation calls: a refused leg is 403 and neither leg is dialled", () =>
    Effect.gen(function*() {
      const headers = yield* tenant("translate")
      const res = yield* request("POST", "/api/v1/voice/translation-calls", {
        headers,
        json: { participant_a: "+15557657001", participant_b: "+8821234567890", language_a: "en", language_b: "es" }
      })
      expect(res.status).toBe(403)
      expectSpecSchema(res.body, "TranslationCallResponse")
      expect(res.body).toMatchObject({ ok: false, participant_a_call_sid: null })
      expect(res.body.error).toContain("satellite")
      expect(yield* dialsTo("+15557657001")).toBe(0)
    }))

  it.effect("auto-dispatch: a task whose number is refused is not dialled; the failure says why", () =>
    Effect.gen(function*() {
      const headers = yield* tenant("dispatch")
      yield* putQueue(headers, "callbacks", { name: "Callbacks", auto_dispatch_enabled: true, auto_dispatch_delay_seconds: 0 })
      const task = yield* createTask(headers, { disposition: "callback_requested", queue_key: "callbacks", customer_phone: "+8816123456789" })
      const res = yield* request("POST", "/api/v1/admin/operator-queues/dispatch", { headers: adminHeaders })
      expect(res.status).toBe(200)
      const failures = res.body.result.failures.filter((f: Record<string, unknown>) => JSON.stringify(f).includes(task.id))
      expect(failures).toHaveLength(1)
      expect(JSON.stringify(failures[0])).toContain("satellite")
      expect(yield* dialsTo("+8816123456789")).toBe(0)
    }))

  it.effect("outbound velocity per minute: the call over the limit is 429 and never dialled", () =>
    Effect.gen(function*() {
      // Start well inside a minute so the window cannot roll over between the calls.
      yield* eventuallyHolds(Effect.sync(() => new Date().getUTCSeconds()), (s) => s < 45, 20_000)
      const headers = yield* tenant("perminute", { outbound_calls_per_minute: 1, max_concurrent_calls: 50 })
      expect((yield* makeCall(headers, "+15557657002")).status).toBe(200)
      const second = yield* makeCall(headers, "+15557657003")
      expect(second.status).toBe(429)
      expect(second.body.error).toContain("a minute")
      expect(yield* dialsTo("+15557657003")).toBe(0)
    }))

  it.effect("the replica cap counts every tenant's calls on this replica", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`delete from call_admissions` // earlier tests' calls on this replica
      const one = yield* tenant("replica-one", { max_concurrent_calls: 50 })
      const two = yield* tenant("replica-two", { max_concurrent_calls: 50 })
      expect((yield* makeCall(one, "+15557657004")).status).toBe(200)
      expect((yield* makeCall(two, "+15557657004")).status).toBe(200)
      const third = yield* makeCall(two, "+15557657004")
      expect(third.status).toBe(429)
      expect(third.body.error).toContain("call capacity")
      expect(yield* dialsTo("+15557657004")).toBe(2)
      const logged = yield* sql<{ reason: string }>`
        select reason from supervisor_actions where tenant_id = 'replica-two' and action = 'refuse'`
      expect(logged).toEqual([{ reason: "replica_concurrency" }])
    }))

  it.effect("an agent's transfer to a configured satellite number is refused; nothing is dialled", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      yield* (yield* SqlClient.SqlClient)`delete from call_admissions` // room under this suite's replica cap of 2
      const headers = yield* tenant("transfer", {}, { escalation_number: "+8816123450000" })
      yield* agentWithRoute("transfer", { phoneNumber: "+15550007400" })
      const callSid = newCallSid()
      const ringing = yield* twilioWebhook("/api/v1/incoming-call", {
        CallSid: callSid, AccountSid: accountSid("transfer"), From: "+15557657005", To: "+15550007400"
      }, { authToken: "transfer-twilio-token" })
      expect(ringing.text).toContain("<Connect>")
      const before = twilio.requests.length
      const res = yield* request("POST", "/test-function", {
        headers,
        json: { name: "escalate_call_to_human", args: { reason: "help" }, context: { session_id: callSid } }
      })
      expect(JSON.stringify(res.body)).toContain("satellite")
      expect(twilio.requests.length).toBe(before)
    }))
})
