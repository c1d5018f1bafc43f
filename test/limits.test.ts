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
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, request } from "./support/TestServer.js"

const FROM = "+15550007000"
const CUSTOMER = "+15557651111"

/** A tenant with its own Twilio account and a US number, plus `limits`. */
const tenant = (id: string, limits: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    const twilio = yield* FakeTwilioServer
    const sid = accountSid(id)
    twilio.accounts.set(sid, `${id}-twilio-token`)
    const headers = yield* putTenant(id, {
      twilio: { account_sid: sid, auth_token: `${id}-twilio-token`, from_number: FROM },
      // Events (the budget warning) are enqueued only for a tenant with an endpoint; this one never resolves.
      webhook_url: `https://hooks.invalid/${id}`,
      limits
    })
    return { headers, sid, token: `${id}-twilio-token` }
  })

const makeCall = (headers: Record<string, string>, to: string) =>
  request("POST", "/api/v1/make-call", { headers, json: { to } })

const dialsTo = (to: string) => Effect.map(FakeTwilioServer, (t) => t.requests.filter((r) => r.form.To === to).length)

const refusalsLogged = (tenantId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ reason: string; target: string | null }>`
      select reason, target from supervisor_actions
      where tenant_id = ${tenantId} and action = 'refuse' and supervisor = 'limits' order by created_at`)

const runtime = (tenantId: string) =>
  Effect.map(request("GET", `/api/v1/admin/tenants/${tenantId}/runtime`, { headers: adminHeaders }), (r) => r.body.config.limits)

suiteWithFakeTwilio({ METRICS_ENABLED: "true" })("cost and abuse limits", (it) => {
  it.effect("satellite, premium and foreign numbers are 403 saying why, never dialled; config opens them at once", () =>
    Effect.gen(function*() {
      const { headers } = yield* tenant("dest")
      const satellite = yield* makeCall(headers, "+881612345678")
      expect(satellite.status).toBe(403)
      expectSpecSchema(satellite.body, "MakeCallResponse")
      expect(satellite.body).toMatchObject({ ok: false, to: "+881612345678" })
      expect(satellite.body.error).toContain("satellite")
      const premium = yield* makeCall(headers, "+19005550100")
      expect(premium.status).toBe(403)
      expect(premium.body.error).toContain("premium-rate")
      const uk = yield* makeCall(headers, "+447700900123")
      expect(uk.status).toBe(403)
      expect(uk.body.error).toContain("+44")
      expect(yield* dialsTo("+881612345678")).toBe(0)
      expect(yield* dialsTo("+447700900123")).toBe(0)
      expect((yield* refusalsLogged("dest")).map((r) => r.reason)).toEqual([
        "satellite_destination", "premium_destination", "destination_not_allowed"
      ])
      const metrics = yield* request("GET", "/metrics", { headers: adminHeaders })
      expect(metrics.text).toMatch(/voice_limit_refusals_total\{[^}]*reason="satellite_destination"[^}]*\} 1/)

      // A config change applies to the next request, no restart.
      yield* tenant("dest", { allowed_country_codes: ["1", "44"], allow_satellite: true })
      expect((yield* makeCall(headers, "+447700900123")).status).toBe(200)
      expect((yield* makeCall(headers, "+881612345678")).status).toBe(200)
      expect((yield* makeCall(headers, "+19005550100")).status).toBe(403) // premium still needs allow_premium
      expect(yield* dialsTo("+881612345678")).toBe(1)
      expect((yield* runtime("dest")).destinations).toEqual({
        allowed_country_codes: ["1", "44"], allow_premium: false, allow_satellite: true
      })
    }))

  it.effect("a bad limits value is a 400 naming the key", () =>
    Effect.gen(function*() {
      const res = yield* request("PUT", "/api/v1/admin/tenants/badlimits", {
        headers: adminHeaders,
        json: { tenant_id: "badlimits", limits: { max_concurrent_calls: 0, allowed_country_codes: ["+44"] } }
      })
      expect(res.status).toBe(400)
      expect(res.text).toContain("limits.max_concurrent_calls")
      expect(res.text).toContain("limits.allowed_country_codes")
    }))

  it.effect("outbound velocity per day: the call over the limit is 429 and never dialled", () =>
    Effect.gen(function*() {
      const { headers } = yield* tenant("speedy", { outbound_calls_per_day: 2, max_concurrent_calls: 50 })
      const to = "+15557652222"
      expect((yield* makeCall(headers, to)).status).toBe(200)
      expect((yield* makeCall(headers, to)).status).toBe(200)
      const third = yield* makeCall(headers, to)
      expect(third.status).toBe(429)
      expectSpecSchema(third.body, "MakeCallResponse")
      expect(third.body.error).toContain("a day")
      expect(yield* dialsTo(to)).toBe(2)
      expect((yield* runtime("speedy")).outbound_calls_today).toEqual({ used: 2, limit: 2 })
      // Raised in config: the next call goes through.
      yield* tenant("speedy", { outbound_calls_per_day: 3, max_concurrent_calls: 50 })
      expect((yield* makeCall(headers, to)).status).toBe(200)
    }))

  it.effect("outbound concurrency: a call waiting to connect holds its slot; the next is 429", () =>
    Effect.gen(function*() {
      const { headers } = yield* tenant("narrow", { max_concurrent_calls: 1 })
      const to = "+15557653333"
      // A number Twilio refuses placed no call: it leaves no slot taken.
      ;(yield* FakeTwilioServer).rejectedNumbers.add("+15557653399")
      expect((yield* makeCall(headers, "+15557653399")).status).toBe(400)
      const first = yield* makeCall(headers, to)
      expect(first.status).toBe(200)
      const second = yield* makeCall(headers, to)
      expect(second.status).toBe(429)
      expect(second.body.error).toContain("concurrent calls")
      expect(yield* dialsTo(to)).toBe(1)
      expect((yield* runtime("narrow")).concurrent_calls).toEqual({ used: 1, limit: 1 })
      // Twilio reports the first call over (no answer): its slot is free at once.
      const { sid, token } = { sid: accountSid("narrow"), token: "narrow-twilio-token" }
      const done = yield* twilioWebhook("/api/v1/call-status", {
        CallSid: first.body.call_sid, AccountSid: sid, From: FROM, To: to, Direction: "outbound-api", CallStatus: "no-answer"
      }, { authToken: token })
      expect(done.status).toBe(200)
      expect((yield* makeCall(headers, to)).status).toBe(200)
      expect(yield* dialsTo(to)).toBe(2)
    }))

  it.effect("inbound over the cap hears a polite message and a hang-up, or gets a callback task", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const number = "+15550007100"
      const { sid, token } = yield* tenant("inbound", { max_concurrent_calls: 1 })
      yield* agentWithRoute("inbound", { phoneNumber: number })
      const ring = (from: string, callSid = newCallSid()) =>
        twilioWebhook("/api/v1/incoming-call", { CallSid: callSid, AccountSid: sid, From: from, To: number }, {
          authToken: token
        })
      const firstSid = newCallSid()
      const first = yield* ring("+15557654444", firstSid)
      expect(first.text).toContain("<Connect>")
      // Twilio retrying the same call's webhook is the same call, not a second one.
      expect((yield* ring("+15557654444", firstSid)).text).toContain("<Connect>")
      const second = yield* ring("+15557655555")
      expect(second.status).toBe(200)
      expect(second.text).toContain("All of our lines are busy")
      expect(second.text).toContain("<Hangup/>")
      expect(second.text).not.toContain("<Connect>")

      yield* tenant("inbound", { max_concurrent_calls: 1, over_capacity: "callback_task" })
      const third = yield* ring("+15557656666")
      expect(third.text).toContain("will call you back")
      const tasks = yield* sql<{ customer_phone: string; disposition: string }>`
        select customer_phone, disposition from callback_tasks where tenant_id = 'inbound'`
      expect(tasks).toEqual([{ customer_phone: "+15557656666", disposition: "callback_requested" }])
      expect((yield* refusalsLogged("inbound")).map((r) => r.reason)).toEqual(["tenant_concurrency", "tenant_concurrency"])
    }))

  it.effect("a tenant without webhook events: the call let through has its call log, a retry keeps one, a refused one has none", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const twilio = yield* FakeTwilioServer
      const logs = (id: string) =>
        sql<{ call_sid: string; from_number: string; agent_version_id: string | null; twilio_status: string | null }>`
          select call_sid, from_number, agent_version_id::text, twilio_status from call_logs
          where tenant_id = ${id} order by first_seen_at`
      // The admission's statement records the sighting (no budget), or its transaction (a budget to check).
      for (const [id, limits, number] of [
        ["quiet", { max_concurrent_calls: 1 }, "+15550007300"],
        ["quietbudget", { max_concurrent_calls: 1, monthly_call_minutes: 100 }, "+15550007400"]
      ] as const) {
        twilio.accounts.set(accountSid(id), `${id}-twilio-token`)
        yield* putTenant(id, { twilio: { account_sid: accountSid(id), auth_token: `${id}-twilio-token`, from_number: FROM }, limits })
        const { versionId } = yield* agentWithRoute(id, { phoneNumber: number })
        const ring = (from: string, callSid: string, status = "ringing") =>
          twilioWebhook("/api/v1/incoming-call", { CallSid: callSid, AccountSid: accountSid(id), From: from, To: number, CallStatus: status }, {
            authToken: `${id}-twilio-token`
          })
        const first = newCallSid()
        expect((yield* ring("+15557654444", first)).text).toContain("<Connect>")
        expect((yield* ring("+15557654444", first, "queued")).text).toContain("<Connect>")
        const busy = yield* ring("+15557655555", newCallSid())
        expect(busy.text).toContain("All of our lines are busy")
        // The retry merged into the first sighting: a status never moves backwards.
        expect(yield* logs(id)).toEqual([
          { call_sid: first, from_number: "+15557654444", agent_version_id: versionId, twilio_status: "ringing" }
        ])
        expect((yield* refusalsLogged(id)).map((r) => r.reason)).toEqual(["tenant_concurrency"])
      }
    }))

  it.effect("monthly minutes: warning at 80%, refusal at 100% for outbound, inbound as the tenant chooses", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const { headers, sid, token } = yield* tenant("budget", { monthly_call_minutes: 10, max_concurrent_calls: 50 })
      const status = (seconds: number) =>
        twilioWebhook("/api/v1/call-status", {
          CallSid: newCallSid(), AccountSid: sid, From: FROM, To: CUSTOMER, Direction: "outbound-api",
          CallStatus: "completed", CallDuration: String(seconds)
        }, { authToken: token })
      expect((yield* status(8 * 60)).status).toBe(200)
      expect((yield* makeCall(headers, CUSTOMER)).status).toBe(200) // 8 of 10 minutes: allowed, warned
      expect((yield* makeCall(headers, CUSTOMER)).status).toBe(200) // warned once only
      const warnings = () =>
        sql<{ payload: any }>`select payload from webhook_outbox where tenant_id = 'budget' and event = 'voice.budget.warning'`
      const first = yield* warnings()
      expect(first.map((w) => w.payload.data.threshold_percent)).toEqual([80])
      expectSpecSchema(first[0]!.payload, "WebhookEvent")
      expect(first[0]!.payload.data).toMatchObject({ used_minutes: 8, limit_minutes: 10 })

      yield* status(125) // 3 more minutes (rounded up per call): 11 of 10
      const over = yield* makeCall(headers, CUSTOMER)
      expect(over.status).toBe(429)
      expect(over.body.error).toContain("monthly budget")
      expect((yield* warnings()).map((w) => w.payload.data.threshold_percent).sort()).toEqual([100, 80])
      expect((yield* runtime("budget")).call_minutes_this_month).toEqual({ used: 11, limit: 10 })

      // Inbound keeps answering by default; the tenant may choose to turn callers away instead.
      const number = "+15550007200"
      yield* agentWithRoute("budget", { phoneNumber: number })
      const ring = () =>
        twilioWebhook("/api/v1/incoming-call", { CallSid: newCallSid(), AccountSid: sid, From: CUSTOMER, To: number }, {
          authToken: token
        })
      expect((yield* ring()).text).toContain("<Connect>")
      yield* tenant("budget", { monthly_call_minutes: 10, max_concurrent_calls: 50, inbound_over_budget: "say_and_hang_up" })
      const refused = yield* ring()
      expect(refused.text).toContain("unable to take your call right now")
      expect(refused.text).toContain("<Hangup/>")
    }))
})
