import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { UNANSWERED_LINE } from "../src/Transfers/Texts.js"
import { eventually } from "./support/Eventually.js"
import { makeFakeOpenAIRealtime } from "./support/FakeOpenAIRealtime.js"
import { startFakeTwilio } from "./support/FakeTwilio.js"
import { createdCalls, lastTwimlOf } from "./support/FakeTwilioCallbacks.js"
import { accountSid, PUBLIC_BASE_URL, sign } from "./support/FakeTwilioServer.js"
import { findAll, parseXml, streamParameters } from "./support/FakeTwilioXml.js"
import { frame, promise } from "./support/MediaCalls.js"
import { call, type Replica, startReplicas } from "./support/Replicas.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { query, testDatabaseUrl } from "./support/TestDatabase.js"
import { adminHeaders, bearer } from "./support/TestServer.js"
import { TwilioMediaClient } from "./support/TwilioMediaClient.js"

const TENANT = "xfer"
const TOKEN = "xfer-token-0123456789"
const SID = accountSid("transfers-replicas")
const TWILIO_TOKEN = "transfers-replicas-twilio-token"
const NUMBER = "+15550009000"
const DESK = "+15550009777"

const sids = (n: number) => ({
  streamSid: `MZxfr${String(n).padStart(29, "0")}`,
  callSid: `CAxfr${String(n).padStart(29, "0")}`
})

/** Twilio posting one of the URLs we gave it to `replica` (whichever the load balancer picked), signed. */
const callback = (replica: Replica, url: string, params: Record<string, string>) =>
  Effect.promise(async () => {
    expect(url.startsWith(PUBLIC_BASE_URL)).toBe(true)
    const path = url.slice(PUBLIC_BASE_URL.length)
    const res = await fetch(`${replica.baseUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": sign(TWILIO_TOKEN, path, params) },
      body: new URLSearchParams(params).toString()
    })
    return { status: res.status, text: await res.text() }
  })

describe("transfers across replicas", () => {
  it.live("Twilio's transfer callbacks on replica A act on the call held by replica B, and B dying mid-transfer is no escalation", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeOpenAIRealtime
      fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(1)], transcript: "Hello!" })
      const twilio = yield* startFakeTwilio
      twilio.accounts.set(SID, TWILIO_TOKEN)
      const url = yield* testDatabaseUrl
      const env = {
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: "sk-xfer",
        TWILIO_API_BASE_URL: twilio.baseUrl,
        MEDIA_HEARTBEAT_SECONDS: "1",
        MEDIA_REAP_AFTER_SECONDS: "2"
      }
      const [a, b] = yield* startReplicas(url, env)
      const put = yield* call(a, "PUT", `/api/v1/admin/tenants/${TENANT}`, {
        headers: adminHeaders,
        json: {
          tenant_id: TENANT,
          auth_token: TOKEN,
          twilio: { account_sid: SID, auth_token: TWILIO_TOKEN, from_number: NUMBER },
          escalation_number: DESK,
          // Events are enqueued only for a tenant with an endpoint (this one is never reached).
          webhook_url: "https://hooks.invalid/xfer"
        }
      })
      expect(put.status, put.text).toBe(200)

      // An agent on NUMBER: calls arrive through the voice webhook, which opens their call log.
      const admin = (path: string, json: unknown) =>
        call(a, path.startsWith("/phone") ? "PUT" : "POST", `/api/v1/admin/tenants/${TENANT}${path}`, { headers: adminHeaders, json })
      const agent = yield* admin("/agents", { agent_key: "default", name: "Front Desk" })
      const version = yield* admin("/agent-versions", { agent_id: agent.body.agent.id, config: { voice: "verse" } })
      expect((yield* admin(`/agent-versions/${version.body.version.id}/publish`, {})).status).toBe(200)
      const route = yield* admin("/phone-number-routes", { phone_number: NUMBER, direction: "inbound", agent_id: agent.body.agent.id })
      expect(route.status, route.text).toBe(200)

      /** A call whose webhook and stream reach B, greeted, with its upstream session. */
      const dial = (n: number) =>
        Effect.gen(function*() {
          const { callSid, streamSid } = sids(n)
          const incoming = yield* callback(b, `${PUBLIC_BASE_URL}/api/v1/incoming-call`, {
            CallSid: callSid, AccountSid: SID, From: "+15551230001", To: NUMBER, CallStatus: "ringing"
          })
          expect(incoming.status, incoming.text).toBe(200)
          const before = fake.connections.length
          const client = yield* promise(() => TwilioMediaClient.open(`${b.baseUrl.replace("http", "ws")}/media-stream`))
          client.connected()
          client.start({ streamSid, callSid, customParameters: streamParameters(parseXml(incoming.text)) })
          const upstream = yield* promise(() => fake.connection(before))
          yield* promise(() => client.waitFor("the greeting", () => client.of("media").length >= 1, 10_000))
          return { client, upstream, callSid, streamSid }
        })
      const escalatedEvents = (callSid: string) =>
        query<{ payload: any }>(url, `select payload from webhook_outbox where tenant_id = $1 and event = 'voice.call.escalated'
          and payload->'data'->>'call_sid' = $2`, [TENANT, callSid])
      const transferOf = (callSid: string) =>
        query<{ status: string; dial_call_status: string | null }>(url,
          "select status, dial_call_status from call_transfers where tenant_id = $1 and call_sid = $2", [TENANT, callSid])
      const logOf = (callSid: string) =>
        query<{ escalated: boolean; media_status: string | null; end_reason: string | null }>(url,
          "select escalated, media_status, end_reason from call_logs where tenant_id = $1 and call_sid = $2", [TENANT, callSid])

      // --- warm, nobody answers: the person's status callback lands on A; B's agent is told.
      const warm = yield* dial(1)
      warm.upstream.callTool("escalate_call_to_human", { reason: "wants a manager", mode: "warm" })
      const [person] = yield* eventually(Effect.sync(() => createdCalls(twilio)), (calls) => calls.length === 1, 10_000)
      expect(person!.form.To).toBe(DESK)
      const status = yield* callback(a, String(person!.form.StatusCallback), {
        AccountSid: SID, CallSid: `CA${"6".repeat(32)}`, From: NUMBER, To: DESK, CallStatus: "no-answer", Direction: "outbound-api"
      })
      expect(status.status, status.text).toBe(200)
      yield* promise(() =>
        fake.waitFor("the nobody-answered instruction on B's session", () =>
          JSON.stringify(warm.upstream.eventsOf("conversation.item.create")).includes("was not answered (no-answer)"), 10_000)
      )
      yield* promise(() =>
        fake.waitFor("the agent saying so", () =>
          JSON.stringify(warm.upstream.eventsOf("response.create")).includes("nobody was available"), 10_000)
      )
      expect(yield* transferOf(warm.callSid)).toEqual([{ status: "unanswered", dial_call_status: "no-answer" }])
      warm.client.stop()
      yield* promise(() => warm.client.closed)

      // --- cold, answered: the person's leg asks B, the Dial action asks A; Twilio repeats both.
      const cold = yield* dial(2)
      cold.upstream.callTool("escalate_call_to_human", { reason: "billing dispute" })
      const twiml = yield* eventually(Effect.sync(() => lastTwimlOf(twilio, cold.callSid)), (doc) => doc !== undefined, 10_000)
      const dialEl = findAll(twiml!, "Dial")[0]!
      const action = dialEl.attributes.action!
      const numberUrl = findAll(dialEl, "Number")[0]!.attributes.url!
      const leg = { AccountSid: SID, CallSid: `CA${"7".repeat(32)}`, ParentCallSid: cold.callSid, From: NUMBER, To: DESK, CallStatus: "in-progress", Direction: "outbound-dial" }
      for (const replica of [b, a]) expect((yield* callback(replica, numberUrl, leg)).status).toBe(200)
      const parent = { AccountSid: SID, CallSid: cold.callSid, From: "+15551230001", To: NUMBER, Direction: "inbound", CallStatus: "in-progress" }
      for (const replica of [a, b, a]) {
        const done = yield* callback(replica, action, { ...parent, DialCallStatus: "completed", DialCallSid: leg.CallSid, DialCallDuration: "42" })
        expect(done.status).toBe(200)
        expect(findAll(parseXml(done.text), "Hangup")).toHaveLength(1)
      }
      const events = yield* escalatedEvents(cold.callSid)
      expect(events).toHaveLength(1)
      expectSpecSchema(events[0]!.payload.data, "WebhookEscalationPayload")
      expect(events[0]!.payload.data).toMatchObject({ call_sid: cold.callSid, target: DESK, initiated_by: "ai" })
      expect(yield* transferOf(cold.callSid)).toEqual([{ status: "completed", dial_call_status: "completed" }])
      cold.client.stop()
      yield* promise(() => cold.client.closed)
      const answeredLog = yield* eventually(logOf(cold.callSid), (rows) => rows[0]?.end_reason != null, 10_000)
      expect(answeredLog[0]).toMatchObject({ escalated: true, media_status: "escalated" })

      // --- cold, B dies while the transfer is pending: A reaps the call, not as an escalation ...
      const pending = yield* dial(3)
      pending.upstream.callTool("escalate_call_to_human", { reason: "wants a person" })
      const pendingTwiml = yield* eventually(Effect.sync(() => lastTwimlOf(twilio, pending.callSid)), (doc) => doc !== undefined, 10_000)
      // The ledger's escalation mark follows Twilio's update (FunctionRegistry): the listing shows it soon after.
      const sessionOf = (res: { body: any }) => res.body.sessions.find((s: any) => s.stream_sid === pending.streamSid)
      const listed = yield* eventually(call(a, "GET", "/api/v1/sessions", { headers: bearer(TOKEN) }), (res) => sessionOf(res)?.escalated === true, 10_000)
      expect(sessionOf(listed)).toMatchObject({ escalated: true })
      b.process.kill("SIGKILL")
      const reaped = yield* eventually(logOf(pending.callSid), (rows) => rows[0]?.end_reason != null, 15_000)
      expect(reaped[0]).toMatchObject({ escalated: false, media_status: "failed", end_reason: "error" })
      expect(yield* transferOf(pending.callSid)).toEqual([{ status: "pending", dial_call_status: null }])

      // ... and nobody answering brings the caller back to the agent on A, on a new stream.
      const pendingAction = findAll(pendingTwiml!, "Dial")[0]!.attributes.action!
      const back = yield* callback(a, pendingAction, {
        AccountSid: SID, CallSid: pending.callSid, From: "+15551230001", To: NUMBER, Direction: "inbound", CallStatus: "in-progress", DialCallStatus: "no-answer"
      })
      expect(back.status, back.text).toBe(200)
      const resumed = parseXml(back.text)
      expect(findAll(resumed, "Stream")).toHaveLength(1)
      const parameters = streamParameters(resumed)
      expect(parameters).toMatchObject({ tenant_id: TENANT, call_sid: pending.callSid, greeting: UNANSWERED_LINE, transfer_result: "no-answer" })
      const before = fake.connections.length
      const again = yield* promise(() => TwilioMediaClient.open(`${a.baseUrl.replace("http", "ws")}/media-stream`))
      again.connected()
      again.start({ streamSid: sids(4).streamSid, callSid: pending.callSid, customParameters: parameters })
      yield* promise(() => fake.connection(before))
      yield* promise(() => again.waitFor("the agent back on the line", () => again.of("media").length >= 1, 10_000))
      expect(yield* transferOf(pending.callSid)).toEqual([{ status: "unanswered", dial_call_status: "no-answer" }])
      expect(yield* escalatedEvents(pending.callSid)).toHaveLength(0)
      again.stop()
      yield* promise(() => again.closed)
    }).pipe(Effect.scoped), 120_000)
})
