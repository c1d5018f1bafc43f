import { expect } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import {
  accountSid,
  agentWithRoute,
  FakeTwilioServer,
  PUBLIC_BASE_URL,
  putTenant,
  suiteWithFakeTwilio,
  twilioWebhook
} from "./support/FakeTwilioServer.js"
import { parseXml, streamParameters } from "./support/FakeTwilioXml.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { request } from "./support/TestServer.js"

const SID = accountSid("outbound")
const TOKEN = "outbound-twilio-auth-token"
const FROM = "+15550006000"
const CUSTOMER = "+15557650000"

const acme = { authorization: "Bearer acme-bearer-token-0123456789" }
const bare = { authorization: "Bearer bare-bearer-token-0123456789" }

const makeCall = (body: unknown, headers = acme) => request("POST", "/api/v1/make-call", { headers, json: body })

/** acme's published agent version, made by the seed. */
class AcmeAgent extends Context.Tag("AcmeAgent")<AcmeAgent, { readonly versionId: string }>() {}

/** acme with Twilio credentials and a published agent; bare with nothing configured. */
const Tenants = Layer.effect(
  AcmeAgent,
  Effect.gen(function*() {
    const twilio = yield* FakeTwilioServer
    twilio.accounts.set(SID, TOKEN)
    yield* putTenant("acme", { twilio: { account_sid: SID, auth_token: TOKEN, from_number: FROM } })
    yield* putTenant("bare", {})
    return yield* agentWithRoute("acme")
  })
)

suiteWithFakeTwilio({}, Tenants)("outbound calls through Twilio's REST API", (it) => {

  it.effect("make-call places the call with the tenant's credentials; Twilio's TwiML request then connects it", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const { versionId } = yield* AcmeAgent
      const res = yield* makeCall({ to: CUSTOMER, agent_version_id: versionId, greeting: "Hi, it's Acme calling." })
      expect(res.status).toBe(200)
      expectSpecSchema(res.body, "MakeCallResponse")
      expect(res.body).toMatchObject({ ok: true, status: "queued", to: CUSTOMER, from: FROM })
      expect(res.body.call_sid).toMatch(/^CA[0-9a-f]{32}$/)

      const sent = twilio.requests.at(-1)!
      expect(sent.path).toBe(`/2010-04-01/Accounts/${SID}/Calls.json`)
      expect([sent.accountSid, sent.authToken]).toEqual([SID, TOKEN])
      expect(sent.form).toMatchObject({ To: CUSTOMER, From: FROM, Method: "POST", StatusCallbackMethod: "POST" })
      expect(sent.form.StatusCallbackEvent).toEqual(["initiated", "ringing", "answered", "completed"])
      expect(sent.form.StatusCallback).toBe(`${PUBLIC_BASE_URL}/api/v1/call-status?tenant=acme`)
      const url = new URL(String(sent.form.Url))
      expect(url.pathname).toBe("/api/v1/outbound-call")
      expect(Object.fromEntries(url.searchParams)).toEqual({
        tenant: "acme",
        agent_version_id: versionId,
        greeting: "Hi, it's Acme calling."
      })

      // The call log exists at once.
      const logs = yield* request("GET", `/api/v1/call-logs?call_sid=${res.body.call_sid}`, { headers: acme })
      expect(logs.body.calls[0]).toMatchObject({ direction: "outbound", status: "in_progress", to_number: CUSTOMER })

      // Twilio, once the callee answers, asks the Url for TwiML (signed, with its own parameters).
      const answered = yield* twilioWebhook(`${url.pathname}${url.search}`, {
        CallSid: res.body.call_sid,
        AccountSid: SID,
        From: FROM,
        To: CUSTOMER,
        Direction: "outbound-api",
        CallStatus: "in-progress"
      }, { authToken: TOKEN })
      expect(answered.status).toBe(200)
      expect(streamParameters(parseXml(answered.text))).toMatchObject({
        tenant_id: "acme",
        direction: "outbound",
        caller: CUSTOMER,
        agent_version_id: versionId,
        greeting: "Hi, it's Acme calling."
      })
    }))

  it.effect("bad numbers and unknown agents are 400; Twilio's own refusal of a number too", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const before = twilio.requests.length
      const badTo = yield* makeCall({ to: "555-1234" })
      expect(badTo.status).toBe(400)
      expectSpecSchema(badTo.body, "MakeCallResponse")
      expect(badTo.body).toMatchObject({ ok: false, to: "555-1234" })
      expect(badTo.body.error).toContain("E.164")
      expect((yield* makeCall({ to: CUSTOMER, from: "12" })).status).toBe(400)
      expect((yield* makeCall({ to: CUSTOMER, agent_key: "nope" })).body.error).toContain("agent_key nope not found")
      expect((yield* makeCall({ to: CUSTOMER, agent_version_id: "nope" })).status).toBe(400)
      expect(twilio.requests.length).toBe(before)
      twilio.rejectedNumbers.add("+15557659999")
      const refused = yield* makeCall({ to: "+15557659999" })
      expect(refused.status).toBe(400)
      expect(refused.body.error).toContain("Invalid 'To' Phone Number")
      // agent_key resolves to the agent, passed on for version resolution at answer time
      const byKey = yield* makeCall({ to: CUSTOMER, agent_key: "default" })
      expect(byKey.status).toBe(200)
      expect(new URL(String(twilio.requests.at(-1)!.form.Url)).searchParams.get("agent_id")).toMatch(/^[0-9a-f-]{36}$/)
    }))

  it.effect("503 when Twilio is not configured, unreachable or failing", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const unconfigured = yield* makeCall({ to: CUSTOMER, from: FROM }, bare)
      expect(unconfigured.status).toBe(503)
      expectSpecSchema(unconfigured.body, "MakeCallResponse")
      expect(unconfigured.body).toMatchObject({ ok: false, error: "Twilio not configured" })
      expect((yield* makeCall({ to: CUSTOMER }, bare)).status).toBe(400) // no default from number either
      twilio.failWith = "drop"
      const dropped = yield* makeCall({ to: CUSTOMER })
      twilio.failWith = "server_error"
      const failing = yield* makeCall({ to: CUSTOMER })
      twilio.failWith = "none"
      expect([dropped.status, failing.status]).toEqual([503, 503])
      expect(dropped.body.error).toContain("unreachable")
      // Wrong credentials at Twilio are not the caller's fault either.
      twilio.accounts.set(SID, "rotated-at-twilio")
      const rejected = yield* makeCall({ to: CUSTOMER })
      twilio.accounts.set(SID, TOKEN)
      expect(rejected.status).toBe(503)
      expect(rejected.body.error).toBe("Authenticate")
    }))

  it.effect("make-call needs a tenant credential", () =>
    Effect.gen(function*() {
      const res = yield* request("POST", "/api/v1/make-call", { json: { to: CUSTOMER } })
      expect(res.status).toBe(401)
    }))

  it.effect("translation calls: two legs in one room; a failed second leg cancels the first and answers 502", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const ok = yield* request("POST", "/api/v1/voice/translation-calls", {
        headers: acme,
        json: { participant_a: "+15551230001", participant_b: "+15551230002", language_a: "en", language_b: "es" }
      })
      expect(ok.status).toBe(200)
      expectSpecSchema(ok.body, "TranslationCallResponse")
      expect(ok.body.participant_a_call_sid).toMatch(/^CA/)
      expect(ok.body.participant_b_call_sid).toMatch(/^CA/)
      const legs = twilio.requests.slice(-2).map((r) => Object.fromEntries(new URL(String(r.form.Url)).searchParams))
      expect(legs).toEqual([
        { tenant: "acme", translation_room: ok.body.room_id, language: "en", peer_language: "es" },
        { tenant: "acme", translation_room: ok.body.room_id, language: "es", peer_language: "en" }
      ])

      twilio.failingNumbers.add("+15551230009")
      const failed = yield* request("POST", "/api/v1/voice/translation-calls", {
        headers: acme,
        json: { participant_a: "+15551230001", participant_b: "+15551230009", language_a: "en", language_b: "es" }
      })
      expect(failed.status).toBe(502)
      expectSpecSchema(failed.body, "TranslationCallResponse")
      expect(failed.body.ok).toBe(false)
      const cancel = twilio.requests.at(-1)!
      expect(cancel.path).toBe(`/2010-04-01/Accounts/${SID}/Calls/${failed.body.participant_a_call_sid}.json`)
      expect(cancel.form).toEqual({ Status: "canceled" })

      const invalid = yield* request("POST", "/api/v1/voice/translation-calls", {
        headers: acme,
        json: { participant_a: "nope", participant_b: "+15551230002", language_a: "en", language_b: "es" }
      })
      expect(invalid.status).toBe(400)
      expectSpecSchema(invalid.body, "TranslationCallResponse")
      const unauthenticated = yield* request("POST", "/api/v1/voice/translation-calls", {
        json: { participant_a: "+15551230001", participant_b: "+15551230002" }
      })
      expect(unauthenticated.status).toBe(401)
      expectSpecSchema(unauthenticated.body, "TranslationCallResponse")
      const unconfigured = yield* request("POST", "/api/v1/voice/translation-calls", {
        headers: bare,
        json: { participant_a: "+15551230001", participant_b: "+15551230002", from: FROM, language_a: "en", language_b: "es" }
      })
      expect(unconfigured.status).toBe(503)
    }))

  it.effect("SIP variants take the tenant from the bearer and answer TwiML", () =>
    Effect.gen(function*() {
      const params = { CallSid: `CA${"5".repeat(32)}`, From: "sip:alice@pbx.example.com", To: "sip:+15550006000@voice.example" }
      const res = yield* request("POST", "/api/v1/incoming-call-sip", {
        headers: { ...acme, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(params).toString()
      })
      expect(res.status).toBe(200)
      expect(streamParameters(parseXml(res.text))).toMatchObject({
        tenant_id: "acme",
        direction: "inbound",
        caller: "sip:alice@pbx.example.com"
      })
      const outbound = yield* request("POST", "/api/v1/outbound-call-sip", {
        headers: { ...acme, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ ...params, CallSid: `CA${"6".repeat(32)}` }).toString()
      })
      expect(streamParameters(parseXml(outbound.text)).direction).toBe("outbound")
      const anonymous = yield* request("POST", "/api/v1/incoming-call-sip", {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(params).toString()
      })
      expect(anonymous.status).toBe(401)
    }))
})
