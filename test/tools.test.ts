import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { TenantConfig } from "../src/Tenants/Config.js"
import { FunctionRegistry } from "../src/Tools/FunctionRegistry.js"
import {
  accountSid,
  agentWithRoute,
  FakeTwilioServer,
  newCallSid,
  putTenant,
  suiteWithFakeTwilio,
  twilioWebhook
} from "./support/FakeTwilioServer.js"
import { findAll, parseXml } from "./support/FakeTwilioXml.js"
import { dialOutcome } from "./support/FakeTwilioCallbacks.js"
import { holdLiveCall } from "./support/LiveCallFixtures.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { request } from "./support/TestServer.js"
import { atTime } from "./support/TestTime.js"

const SID = accountSid("tools")
const TOKEN = "tools-twilio-auth-token"
const NUMBER = "+15550007000"
const DESK = "+15550007777"
const BILLING = "+15550007888"
const acme = { authorization: "Bearer acme-bearer-token-0123456789" }
const other = { authorization: "Bearer other-bearer-token-0123456789" }

const testFunction = (json: unknown, headers = acme) => request("POST", "/test-function", { headers, json })

const ALL_WEEK = Object.fromEntries(
  ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"].map((day) => [day, "00:00-24:00"])
)

/** acme: Twilio, escalation targets, open all week; other: never open, with an escalation number of its own. */
const Tenants = Layer.effectDiscard(
  Effect.gen(function*() {
    const twilio = yield* FakeTwilioServer
    twilio.accounts.set(SID, TOKEN)
    yield* putTenant("acme", {
      twilio: { account_sid: SID, auth_token: TOKEN },
      // Events are enqueued only for a tenant with an endpoint (this one never resolves).
      webhook_url: "https://hooks.invalid/acme",
      escalation: { number: DESK, departments: { billing: BILLING }, announcement: "Connecting you <now>." },
      business_hours: { timezone: "America/New_York", hours: ALL_WEEK }
    })
    yield* putTenant("other", {
      business_hours: { timezone: "Europe/Paris", hours: { monday: null } },
      escalation_number: DESK
    })
    yield* agentWithRoute("acme", { phoneNumber: NUMBER })
  })
)

suiteWithFakeTwilio({}, Tenants)("function registry", (it) => {

  it.effect("GET /tools lists the agent's tools as function definitions with JSON-Schema parameters", () =>
    Effect.gen(function*() {
      const res = yield* request("GET", "/tools", { headers: acme })
      expect(res.status).toBe(200)
      expectSpecSchema(res.body, "ToolsResponse")
      expect(res.body.count).toBe(5)
      expect(res.body.tools.map((t: { name: string }) => t.name)).toEqual([
        "escalate_call_to_human",
        "end_call",
        "request_callback",
        "check_business_hours",
        // acme has an escalation number: the agent may ask whether a transfer is needed.
        "evaluate_escalation_need"
      ])
      expect(res.body.tools[0].definition).toMatchObject({
        type: "function",
        name: "escalate_call_to_human",
        parameters: { type: "object", required: ["reason"] }
      })
      expect((yield* request("GET", "/tools")).status).toBe(401)
    }))

  it.effect("check_business_hours answers from the tenant's hours in its time zone", () =>
    Effect.gen(function*() {
      const open = yield* testFunction({ name: "check_business_hours", args: {} })
      expect(open.status).toBe(200)
      expectSpecSchema(open.body, "FunctionTestResponse")
      expect(open.body.result).toMatchObject({ configured: true, open: true, timezone: "America/New_York" })
      expect(open.body.result.hours_today).toEqual(["00:00-24:00"])

      const closed = yield* testFunction({ name: "check_business_hours", args: {} }, other)
      expect(closed.body.result).toMatchObject({ configured: true, open: false, timezone: "Europe/Paris", next_open: null })
    }))

  it.effect("check_business_hours: local time, closed days and the next opening (pure, fixed clock)", () =>
    Effect.gen(function*() {
      const registry = yield* FunctionRegistry
      const config = {
        tenant_id: "t",
        business_hours: {
          timezone: "America/Los_Angeles",
          hours: { monday: ["09:00-12:00", "13:00-17:00"], tuesday: "09:00-17:00" },
          closed_dates: ["2026-03-03"]
        }
      }
      const run = (iso: string) =>
        registry.execute("check_business_hours", {}, { tenantId: "t", tenantConfig: config, callSid: null, streamSid: null })
          .pipe(Effect.map((outcome) => outcome.output as Record<string, unknown>), atTime(iso))
      // 2026-03-02 is a Monday; 20:30 UTC is 12:30 in Los Angeles (PST, UTC-8): the lunch break.
      expect(yield* run("2026-03-02T20:30:00Z")).toMatchObject({
        open: false,
        day: "monday",
        local_time: "2026-03-02T12:30",
        next_open: "monday 13:00"
      })
      expect(yield* run("2026-03-02T22:00:00Z")).toMatchObject({ open: true })
      // Tuesday the 3rd is a closed date; the next opening is the following Monday.
      expect(yield* run("2026-03-03T18:00:00Z")).toMatchObject({ open: false, hours_today: [], next_open: "monday 09:00" })
    }))

  it.effect("request_callback takes a future time with its zone; anything else is a 400 that says why", () =>
    Effect.gen(function*() {
      const ok = yield* testFunction({ name: "request_callback", args: { callback_at: "2099-03-03T10:00:00-05:00", reason: "invoice" } })
      expect(ok.status).toBe(200)
      expectSpecSchema(ok.body, "FunctionTestResponse")
      expect(ok.body.result).toEqual({ ok: true, callback_at: "2099-03-03T15:00:00.000Z", reason: "invoice" })
      const past = yield* testFunction({ name: "request_callback", args: { callback_at: "2001-01-01T10:00:00Z" } })
      expect(past.status).toBe(400)
      expectSpecSchema(past.body, "ErrorResponse")
      expect(past.body).toMatchObject({ success: false, error: "callback_at is in the past" })
      const zoneless = yield* testFunction({ name: "request_callback", args: { callback_at: "2099-03-03T10:00:00" } })
      expect(zoneless.status).toBe(400)
      expect(zoneless.body.error).toContain("invalid arguments")
    }))

  it.effect("end_call asks the bridge to hang up; unknown tools and bad arguments are 400", () =>
    Effect.gen(function*() {
      const end = yield* testFunction({ name: "end_call", args: { reason: "goodbye said" } })
      expect(end.body).toMatchObject({ ok: true, result: { ending: true, reason: "goodbye said" } })
      const registry = yield* FunctionRegistry
      const outcome = yield* registry.execute("end_call", undefined, {
        tenantId: "acme",
        tenantConfig: { tenant_id: "acme" },
        callSid: null,
        streamSid: null
      })
      expect(outcome.action).toBe("end_call")

      const unknown = yield* testFunction({ name: "get_weather", args: {} })
      expect(unknown.status).toBe(400)
      expectSpecSchema(unknown.body, "ErrorResponse")
      expect(unknown.body).toMatchObject({ success: false, error: "unknown tool: get_weather" })
      const badArgs = yield* testFunction({ name: "escalate_call_to_human", args: { department: "billing" } })
      expect(badArgs.status).toBe(400)
      expect(badArgs.body.error).toContain("invalid arguments")
      const badZone = yield* testFunction({ name: "check_business_hours", args: { timezone: "Mars/Olympus" } }, {
        authorization: "Bearer bare-bearer-token-0123456789"
      })
      expect(badZone.status).toBe(401) // no such tenant yet
      yield* putTenant("bare", {})
      const zone = yield* testFunction({ name: "check_business_hours", args: { timezone: "Mars/Olympus" } }, {
        authorization: "Bearer bare-bearer-token-0123456789"
      })
      expect(zone.status).toBe(400)
      expect(zone.body).toMatchObject({ success: false, error: "unknown time zone: Mars/Olympus" })
    }))

  it.effect("escalate_call_to_human redirects the live call to the configured number through Twilio's REST API", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const callSid = newCallSid()
      yield* twilioWebhook("/api/v1/incoming-call", { CallSid: callSid, AccountSid: SID, From: "+15557654321", To: NUMBER }, {
        authToken: TOKEN
      })
      const res = yield* testFunction({
        name: "escalate_call_to_human",
        args: { reason: "billing dispute", department: "Billing" },
        context: { session_id: callSid }
      })
      expect(res.status).toBe(200)
      expect(res.body.result).toEqual({ ok: true, transferred_to: BILLING, mode: "cold", reason: "billing dispute" })
      const update = twilio.requests.at(-1)!
      expect(update.path).toBe(`/2010-04-01/Accounts/${SID}/Calls/${callSid}.json`)
      expect([update.accountSid, update.authToken]).toEqual([SID, TOKEN])
      const twiml = parseXml(String(update.form.Twiml))
      expect(findAll(twiml, "Say")[0]!.text).toBe("Connecting you <now>.")
      expect(findAll(twiml, "Number")[0]!.text).toBe(BILLING)
      expect(findAll(twiml, "Dial")[0]!.attributes.action).toContain("/twilio/transfer-result?")

      // Not an escalation until the person answers (test/escalation-cold.test.ts follows it through).
      const logs = yield* request("GET", `/api/v1/call-logs?call_sid=${callSid}`, { headers: acme })
      expect(logs.body.calls[0]).toMatchObject({ escalated: false, status: "in_progress" })
    }))

  it.effect("escalation never dials a number the tenant did not configure, nor another tenant's call", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const callSid = newCallSid()
      yield* twilioWebhook("/api/v1/incoming-call", { CallSid: callSid, AccountSid: SID, From: "+15557654321", To: NUMBER }, {
        authToken: TOKEN
      })
      const before = twilio.requests.length
      const premium = yield* testFunction({
        name: "escalate_call_to_human",
        args: { reason: "caller insisted", target_number: "+19005550100" },
        context: { session_id: callSid }
      })
      expect(premium.status).toBe(500)
      expect(premium.body.error).toContain("not a configured escalation number")
      const foreign = yield* testFunction({
        name: "escalate_call_to_human",
        args: { reason: "take over" },
        context: { session_id: callSid }
      }, other)
      expect(foreign.status).toBe(400)
      expect(foreign.body).toMatchObject({ success: false, error: "there is no live call to transfer" })
      expect(twilio.requests.length).toBe(before)
    }))

  it.effect("from the media bridge, an escalation also marks the live call", () =>
    Effect.gen(function*() {
      const registry = yield* FunctionRegistry
      const callSid = newCallSid()
      yield* holdLiveCall({ streamSid: "MZ-live", tenantId: "acme", callSid })
      const outcome = yield* registry.execute("escalate_call_to_human", { reason: "help" }, {
        tenantId: "acme",
        tenantConfig: Schema.decodeUnknownSync(TenantConfig)({
          tenant_id: "acme",
          twilio: { account_sid: SID, auth_token: TOKEN },
          escalation_number: DESK
        }),
        callSid,
        streamSid: "MZ-live"
      })
      expect(outcome).toEqual({ output: { ok: true, transferred_to: DESK, mode: "cold", reason: "help" }, action: "escalated" })
      const sessions = yield* request("GET", "/api/v1/sessions", { headers: acme })
      expect(sessions.body.sessions[0]).toMatchObject({ stream_sid: "MZ-live", escalated: true, escalation_target: DESK })

      // Announced to the tenant with the spec's escalation payload, once the person answers.
      const sql = yield* SqlClient.SqlClient
      const escalatedEvents = sql<{ payload: any }>`
        select payload from webhook_outbox where tenant_id = 'acme' and event = 'voice.call.escalated'
          and payload->'data'->>'call_sid' = ${callSid}`
      expect(yield* escalatedEvents).toHaveLength(0)
      const answered = yield* dialOutcome(yield* FakeTwilioServer, callSid, TOKEN, { dialCallStatus: "completed", answered: true }, {
        accountSid: SID, from: "+15557654321", to: NUMBER
      })
      expect(answered.status).toBe(200)
      const events = yield* escalatedEvents
      expect(events).toHaveLength(1)
      expectSpecSchema(events[0]!.payload, "WebhookEvent")
      expectSpecSchema(events[0]!.payload.data, "WebhookEscalationPayload")
      expect(events[0]!.payload.data).toMatchObject({ stream_sid: "MZ-live", target: DESK, initiated_by: "ai", reason: "help" })
    }).pipe(Effect.scoped))
})
