import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Context, Effect, Either, Layer } from "effect"
import { businessHours } from "../src/Automations/BusinessHours.js"
import { decodeTenantConfig } from "../src/Tenants/Config.js"
import { agentSettings } from "../src/Media/SessionPlan.js"
import { type FakeToolServer, fakeToolServer } from "./support/FakeToolServer.js"
import { accountSid, FakeTwilioServer, putTenant, suiteWithFakeTwilio } from "./support/FakeTwilioServer.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, request } from "./support/TestServer.js"
import { secret } from "./support/WebhookChecks.js"

const SID = accountSid("automations")
const TOKEN = "automations-twilio-auth-token"
const FROM = "+15550008000"
const SECRET = secret("shop")
const shop = { authorization: "Bearer shop-bearer-token-0123456789" }
const bare = { authorization: "Bearer bare-bearer-token-0123456789" }

class ToolServer extends Context.Tag("ToolServer")<ToolServer, FakeToolServer>() {}

const ORDER_PARAMETERS = {
  type: "object",
  properties: { order_id: { type: "string", description: "Order ID like ORD-12345" } },
  required: ["order_id"]
}

/** shop: Twilio, SMS set up, a `get_order` tool, a slow tool and an email endpoint; bare: nothing. */
const Seed = Layer.scoped(
  ToolServer,
  Effect.gen(function*() {
    const tools = yield* fakeToolServer(SECRET)
    ;(yield* FakeTwilioServer).accounts.set(SID, TOKEN)
    yield* putTenant("shop", {
      display_name: "Acme Shop",
      webhook_secret: SECRET,
      twilio: { account_sid: SID, auth_token: TOKEN, from_number: FROM },
      sms: { issue_intake_url: "https://acme.example/issue", survey_url: "https://acme.example/survey" },
      email: { url: tools.url("/email"), from: "help@acme.example" },
      escalation_number: "+15550008999",
      prompts: { returns: "You handle returns for {business_name}." },
      system_prompt_key: "returns",
      tools: [
        { name: "get_order", description: "Look up the current status of an order", parameters: ORDER_PARAMETERS, url: tools.url("/get_order") },
        { name: "slow_tool", description: "Never answers in time", url: tools.url("/slow"), timeout_ms: 200 }
      ]
    })
    yield* putTenant("bare", {})
    return tools
  })
)

const testFunction = (json: unknown, headers = shop) => request("POST", "/test-function", { headers, json })
const automation = (path: string, json: unknown, headers = shop) =>
  request("POST", `/api/v1/automations/${path}`, { headers, json })
const putShop = (patch: Record<string, unknown>) =>
  request("PUT", "/api/v1/admin/tenants/shop/runtime-config", { headers: adminHeaders, json: patch })

suiteWithFakeTwilio({ ALLOW_PRIVATE_OUTBOUND_URLS: "true" }, Seed)("tenant tools and automations", (it) => {
  it.effect("a registered get_order is listed with the built-ins and runs through /test-function as a signed POST", () =>
    Effect.gen(function*() {
      const tools = yield* ToolServer
      const listed = yield* request("GET", "/tools", { headers: shop })
      expect(listed.status).toBe(200)
      expectSpecSchema(listed.body, "ToolsResponse")
      const names = listed.body.tools.map((tool: { name: string }) => tool.name)
      expect(names).toContain("escalate_call_to_human")
      expect(names).toContain("send_tracking_sms")
      expect(names.slice(-2)).toEqual(["get_order", "slow_tool"])
      expect(listed.body.tools.find((tool: { name: string }) => tool.name === "get_order").definition).toEqual({
        type: "function",
        name: "get_order",
        description: "Look up the current status of an order",
        parameters: ORDER_PARAMETERS
      })
      expect((yield* request("GET", "/tools", { headers: bare })).body.tools.map((t: { name: string }) => t.name)).not.toContain("get_order")

      tools.on("/get_order", { json: { order: { id: "12345", status: "shipped" } } })
      // The spec's own example request.
      const res = yield* testFunction({
        args: { order_id: "12345" },
        context: {
          agent_name: "Front Desk",
          authenticated: true,
          customer_id: "cust-789",
          customer_phone: "+15555555678",
          org_id: "org-456",
          session_id: "sess-abc123"
        },
        name: "get_order"
      })
      expect(res.status).toBe(200)
      expectSpecSchema(res.body, "FunctionTestResponse")
      expect(res.body).toEqual({ ok: true, result: { order: { id: "12345", status: "shipped" } }, error: null })
      const sent = tools.requests.filter((r) => r.path === "/get_order").at(-1)!
      expect(sent.verified).toBe(true)
      expect(sent.headers["webhook-id"]).toMatch(/^msg_/)
      expect(sent.body).toMatchObject({ order_id: "12345", customer_phone: "+15555555678", metadata: { tool: "get_order", tenant_id: "shop" } })
    }))

  it.effect("an unknown tool is a 400; a tool that times out or fails is reported, never a hang", () =>
    Effect.gen(function*() {
      const tools = yield* ToolServer
      const unknown = yield* testFunction({ name: "get_weather", args: {} })
      expect(unknown.status).toBe(400)
      expectSpecSchema(unknown.body, "ErrorResponse")
      expect(unknown.body.error).toBe("unknown tool: get_weather")

      tools.on("/slow", { delayMs: 2_000 })
      const started = Date.now()
      const slow = yield* testFunction({ name: "slow_tool", args: {} })
      expect(Date.now() - started).toBeLessThan(1_500)
      expect(slow.status).toBe(500)
      expectSpecSchema(slow.body, "FunctionTestResponse")
      expect(slow.body).toMatchObject({ ok: false, error: "slow_tool timed out after 200 ms" })

      tools.on("/get_order", { status: 500, json: { error: "down" } })
      const failed = yield* testFunction({ name: "get_order", args: { order_id: "1" } })
      expect(failed.status).toBe(500)
      expect(failed.body.error).toBe("get_order answered HTTP 500")
      tools.on("/get_order", { json: { order: { id: "1" } } })
    }))

  it.effect("a tool URL's credential is not in the failure the model (and the log) is given", () =>
    Effect.gen(function*() {
      const credential = "tool-credential-0123456789"
      // Nothing listens on port 1: the POST fails in transport, and the client's message names the URL.
      const headers = yield* putTenant("leaky", {
        webhook_secret: SECRET,
        tools: [{ name: "dead_tool", description: "Its server is down", url: `http://127.0.0.1:1/run?token=${credential}&v=2` }]
      })
      const res = yield* testFunction({ name: "dead_tool", args: {} }, headers)
      expect(res.status).toBe(500)
      expectSpecSchema(res.body, "FunctionTestResponse")
      expect(res.body.error).toContain("dead_tool")
      expect(res.body.error).toContain("http://127.0.0.1:1/run?token=[redacted]&v=2")
      expect(res.text).not.toContain(credential)
    }))

  it.effect("tool, prompt and email settings are checked when written: each problem is a 400 naming its key", () =>
    Effect.gen(function*() {
      const tools = yield* ToolServer
      const tool = { name: "get_order", description: "d", url: tools.url("/x") }
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ tools: [{ ...tool, name: "end_call" }] }, "tools.0.name end_call is a built-in tool's name"],
        [{ tools: [tool, tool] }, "tools.1.name get_order is used by another tool"],
        [{ tools: [{ ...tool, timeout_ms: 60_000 }] }, "tools.0.timeout_ms must be an integer from 100 to 30000"],
        [{ tools: [{ ...tool, parameters: { type: "string" } }] }, "tools.0.parameters must be a JSON Schema object"],
        [{ tools: [{ ...tool, url: "ftp://x" }] }, "tools.0.url must be an https URL"],
        [{ system_prompt_key: "nope" }, "system_prompt_key \"nope\" names no prompt"],
        [{ webhook_secret: null }, "tools need webhook_secret"]
      ]
      for (const [patch, message] of cases) {
        const res = yield* putShop(patch)
        expect(res.status, JSON.stringify(patch)).toBe(400)
        expect(res.body.error).toContain(message)
      }
      const deep = { type: "object", properties: { a: { type: "object", properties: { b: { type: "object", properties: { c: { type: "object", properties: { d: { type: "object", properties: { e: {} } } } } } } } } } }
      const tooDeep = yield* putShop({ tools: [{ ...tool, parameters: deep }] })
      expect(tooDeep.status).toBe(400)
      expect(tooDeep.body.error).toContain("must nest at most 10 levels deep")
      // A built-in prompt key is fine without a prompts map.
      expect((yield* request("PUT", "/api/v1/admin/tenants/bare/runtime-config", { headers: adminHeaders, json: { system_prompt_key: "support_default" } })).status).toBe(200)
    }))

  it.effect("the prompt key picks the call's instructions; an agent version with a missing key is a 400", () =>
    Effect.gen(function*() {
      const config = Either.getOrThrow(decodeTenantConfig({
        tenant_id: "t",
        display_name: "Acme",
        instructions: "plain",
        prompts: { returns: "Returns desk of {business_name}." },
        system_prompt_key: "returns"
      }))
      const byTenant = agentSettings(config, undefined, "gpt-realtime")
      expect([byTenant.instructions, byTenant.systemPromptKey]).toEqual(["Returns desk of Acme.", "returns"])
      const version = {
        agentId: "a", versionId: "v", versionNumber: 1,
        config: { instructions: "v", voice: null, realtime_model: null, greeting: null, assistant_profile: null, chat_model: null, system_prompt_key: "front_desk" }
      }
      const byVersion = agentSettings(config, version, "gpt-realtime")
      expect(byVersion.systemPromptKey).toBe("front_desk")
      expect(byVersion.instructions).toContain("front desk phone for Acme")

      const agent = yield* request("POST", "/api/v1/admin/tenants/shop/agents", { headers: adminHeaders, json: { agent_key: "desk", name: "Desk" } })
      const missing = yield* request("POST", "/api/v1/admin/tenants/shop/agent-versions", {
        headers: adminHeaders,
        json: { agent_id: agent.body.agent.id, config: { assistant_profile: "nope" } }
      })
      expect(missing.status).toBe(400)
      expect(missing.body.error).toContain("config.assistant_profile \"nope\" names no prompt")
      const ok = yield* request("POST", "/api/v1/admin/tenants/shop/agent-versions", {
        headers: adminHeaders,
        json: { agent_id: agent.body.agent.id, config: { assistant_profile: "returns" } }
      })
      expect(ok.status).toBe(200)
      expect(ok.body.version.config.assistant_profile).toBe("returns")
    }))

  it.effect("each SMS automation texts the customer through Twilio's Messages API", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const cases: Array<[string, Record<string, unknown>, string]> = [
        ["sms/tracking", { order_id: "ORD-12345", carrier: "UPS", tracking_number: "1Z999" }, "Acme Shop: your order ORD-12345 has shipped with UPS. Tracking number: 1Z999"],
        ["sms/issue-intake", {}, "Acme Shop: please tell us about the issue here: https://acme.example/issue"],
        ["sms/phone-order", { order_id: "ORD-7" }, "Acme Shop: thank you for your order ORD-7. We will text you when it ships."],
        ["sms/post-call-survey", {}, "Acme Shop: how did we do on your call today? https://acme.example/survey"],
        ["sms/troubleshooting", { steps: ["Unplug it", "Wait 10 s", "Plug it in"] }, "Acme Shop: the steps we talked about: Unplug it; Wait 10 s; Plug it in"]
      ]
      for (const [path, metadata, body] of cases) {
        const res = yield* automation(path, { call_sid: "CA1234567890abcdef1234567890abcdef", customer_phone: "+15555555678", metadata })
        expect(res.status, `${path}: ${res.text}`).toBe(200)
        expectSpecSchema(res.body, "AutomationResponse")
        expect(res.body.result.message_sid).toMatch(/^SM/)
        expect(res.body.result.queued_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
        const sent = twilio.requests.at(-1)!
        expect(sent.path).toBe(`/2010-04-01/Accounts/${SID}/Messages.json`)
        expect(sent.form).toMatchObject({ To: "+15555555678", From: FROM, Body: body })
      }
      // Each text passed the Limits gate: counted against the tenant's SMS allowance.
      const sql = yield* SqlClient.SqlClient
      const [day] = yield* sql<{ n: number }>`select coalesce(sum(hits), 0)::int as n from limit_counters where tenant_id = 'shop' and name = 'sms_day'`
      expect(day!.n).toBeGreaterThanOrEqual(5)
    }))

  it.effect("tracking details come from the tenant's get_order when not given", () =>
    Effect.gen(function*() {
      const tools = yield* ToolServer
      const twilio = yield* FakeTwilioServer
      tools.on("/get_order", { json: { order: { id: "ORD-9", carrier: "FedEx", tracking_number: "FX123" } } })
      const res = yield* automation("sms/tracking", { customer_phone: "+15555555678", metadata: { order_id: "ORD-9" } })
      expect(res.status, res.text).toBe(200)
      expect(twilio.requests.at(-1)!.form.Body).toBe("Acme Shop: your order ORD-9 has shipped with FedEx. Tracking number: FX123")
      expect(tools.requests.at(-1)!).toMatchObject({ path: "/get_order", verified: true, body: { order_id: "ORD-9" } })
    }))

  it.effect("bad numbers and missing template fields are 400s naming them; no Twilio is a 503", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const before = twilio.requests.length
      const noPhone = yield* automation("sms/post-call-survey", {})
      expect(noPhone.status).toBe(400)
      expectSpecSchema(noPhone.body, "AutomationResponse")
      expect(noPhone.body).toMatchObject({ ok: false, error: "customer_phone (or to) is required: the number to text" })
      const badPhone = yield* automation("sms/post-call-survey", { customer_phone: "555-1234" })
      expect(badPhone.status).toBe(400)
      expect(badPhone.body.error).toContain("customer_phone \"555-1234\" is not an E.164 phone number")
      const noFields = yield* automation("sms/tracking", { customer_phone: "+15555555678", metadata: { carrier: "UPS" } })
      expect(noFields.status).toBe(400)
      expect(noFields.body.error).toContain("needs order_id, tracking_number")
      const noLink = yield* automation("sms/issue-intake", { customer_phone: "+15555555678" }, bare)
      expect(noLink.status).toBe(503)
      expectSpecSchema(noLink.body, "ErrorResponse")
      expect(noLink.body.error).toContain("Twilio is not configured for this tenant")
      expect(twilio.requests.length).toBe(before)
    }))

  it.effect("the follow-up email is a signed POST to the tenant's endpoint; none configured is a 503", () =>
    Effect.gen(function*() {
      const tools = yield* ToolServer
      tools.on("/email", { status: 202, json: { message_id: "em_1" } })
      const res = yield* automation("email/loop-followup", {
        call_sid: "CA1234567890abcdef1234567890abcdef",
        customer_phone: "+15555555678",
        metadata: { order_id: "ORD-12345", email: "jo@example.com" },
        reason: "customer requested a human agent"
      })
      expect(res.status, res.text).toBe(200)
      expectSpecSchema(res.body, "AutomationResponse")
      expect(res.body.result).toMatchObject({ message_id: "em_1", status: 202 })
      const sent = tools.requests.at(-1)!
      expect(sent).toMatchObject({ path: "/email", verified: true })
      expect(sent.body).toMatchObject({ type: "loop_followup", to: "jo@example.com", from: "help@acme.example", metadata: { order_id: "ORD-12345" } })
      const none = yield* automation("email/loop-followup", { customer_phone: "+15555555678" }, bare)
      expect(none.status).toBe(503)
      expect(none.body.error).toContain("no email endpoint is configured for this tenant (email.url)")
    }))

  it.effect("business hours: the tenant's week in its time zone, with holidays", () =>
    Effect.gen(function*() {
      const config = Either.getOrThrow(decodeTenantConfig({
        tenant_id: "t",
        business_hours: {
          timezone: "Asia/Tokyo",
          hours: { monday: "09:00-17:00", tuesday: "09:00-17:00", wednesday: "09:00-17:00" },
          holidays: ["2026-03-03"]
        }
      }))
      // 2026-03-02T01:00Z is Monday 10:00 in Tokyo (UTC+9): open.
      expect(Either.getOrThrow(businessHours(config, new Date("2026-03-02T01:00:00Z"), undefined))).toMatchObject({ open: true, day: "monday", local_time: "2026-03-02T10:00" })
      // Monday 18:00 Tokyo: closed; Tuesday is a holiday, so next is Wednesday.
      expect(Either.getOrThrow(businessHours(config, new Date("2026-03-02T09:00:00Z"), undefined))).toMatchObject({ open: false, next_open: "wednesday 09:00" })
      // Sunday 23:00 UTC is already Monday 08:00 in Tokyo.
      expect(Either.getOrThrow(businessHours(config, new Date("2026-03-01T23:00:00Z"), undefined))).toMatchObject({ open: false, day: "monday", next_open: "monday 09:00" })

      const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Pacific/Auckland" }).format(new Date())
      const allWeek = Object.fromEntries(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"].map((d) => [d, "00:00-24:00"]))
      expect((yield* putShop({ business_hours: { timezone: "Pacific/Auckland", hours: allWeek, holidays: [today] } })).status).toBe(200)
      const res = yield* automation("voice/business-hours", {})
      expect(res.status).toBe(200)
      expectSpecSchema(res.body, "AutomationResponse")
      expect(res.body.result).toMatchObject({ configured: true, open: false, timezone: "Pacific/Auckland", hours_today: [] })
      const badZone = yield* automation("voice/business-hours", { metadata: { timezone: "Mars/Olympus" } }, bare)
      expect(badZone.status).toBe(400)
      expect(badZone.body.error).toBe("unknown time zone: Mars/Olympus")
    }))

  it.effect("escalation need: a request for a person, repeated failures and frustration, each a reason", () =>
    Effect.gen(function*() {
      const upset = yield* automation("voice/escalation-need", {
        metadata: {
          transcript: [
            { role: "user", content: "My order never arrived" },
            { role: "assistant", content: "Sorry, I couldn't find that order." },
            { role: "user", content: "My order never arrived" },
            { role: "assistant", content: "I'm sorry, I don't know where it is." },
            { role: "user", content: "This is ridiculous, let me talk to a real person" }
          ]
        }
      })
      expect(upset.status).toBe(200)
      expectSpecSchema(upset.body, "AutomationResponse")
      expect(upset.body.result).toMatchObject({
        needs_escalation: true,
        score: 1,
        source: "metadata",
        signals: { explicit_request: true, repeated_failures: 3, negative_sentiment: 1 }
      })
      expect(upset.body.result.reasons[0]).toContain("the caller asked for a person")
      const calm = yield* automation("voice/escalation-need", {
        metadata: { transcript: [{ role: "user", content: "What time do you open?" }, { role: "assistant", content: "We open at nine." }] }
      })
      expect(calm.body.result).toMatchObject({ needs_escalation: false, score: 0 })
      const nothing = yield* automation("voice/escalation-need", {})
      expect(nothing.status).toBe(400)
      expect(nothing.body.error).toContain("nothing to assess")
      const unknownCall = yield* automation("voice/escalation-need", { call_sid: "CA00000000000000000000000000000000" })
      expect(unknownCall.status).toBe(400)
      // As the agent's tool, with the same rules.
      const tool = yield* testFunction({ name: "evaluate_escalation_need", args: { transcript: "get me a human now" } })
      expect(tool.status).toBe(200)
      expect(tool.body.result).toMatchObject({ ok: true, needs_escalation: true })
    }))
})
