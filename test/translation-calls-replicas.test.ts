import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { eventually, eventuallyHolds } from "./support/Eventually.js"
import { makeFakeOpenAIRealtime } from "./support/FakeOpenAIRealtime.js"
import { startFakeTwilio } from "./support/FakeTwilio.js"
import { accountSid, sign } from "./support/FakeTwilioServer.js"
import { findAll, parseXml, streamParameters } from "./support/FakeTwilioXml.js"
import { call, type Replica, startReplicas } from "./support/Replicas.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"
import { adminHeaders, bearer } from "./support/TestServer.js"
import { TwilioMediaClient } from "./support/TwilioMediaClient.js"

const TOKEN = "acme-token-0123456789"
const SID = accountSid("translation-replicas")
const TWILIO_TOKEN = "translation-replicas-twilio-token"
const FROM = "+15550007000"

/** Twilio asking `replica` for a leg's TwiML (the load balancer picked that replica). */
const webhook = (replica: Replica, legUrl: string, callSid: string, to: string) =>
  Effect.promise(async () => {
    const url = new URL(legUrl)
    const path = `${url.pathname}${url.search}`
    const params = { AccountSid: SID, CallSid: callSid, CallStatus: "in-progress", Direction: "outbound-api", From: FROM, To: to }
    const res = await fetch(`${replica.baseUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": sign(TWILIO_TOKEN, path, params) },
      body: new URLSearchParams(params).toString()
    })
    expect(res.status).toBe(200)
    const twiml = parseXml(await res.text())
    return { streamUrl: findAll(twiml, "Stream")[0]!.attributes.url!, parameters: streamParameters(twiml) }
  })

describe("translation calls across replicas", () => {
  it.live("both legs' streams are sent to the replica that answered the room's first webhook, and interpret there", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeOpenAIRealtime
      const twilio = yield* startFakeTwilio
      twilio.accounts.set(SID, TWILIO_TOKEN)
      const url = yield* testDatabaseUrl
      const env = {
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: "sk-replicas",
        TWILIO_API_BASE_URL: twilio.baseUrl,
        REPLICA_BASE_URL: "{BASE_URL}"
      }
      const [one, two] = yield* startReplicas(url, env)
      const put = yield* call(one, "PUT", "/api/v1/admin/tenants/acme", {
        headers: adminHeaders,
        json: { tenant_id: "acme", auth_token: TOKEN, twilio: { account_sid: SID, auth_token: TWILIO_TOKEN } }
      })
      expect(put.status).toBe(200)

      const started = yield* call(one, "POST", "/api/v1/voice/translation-calls", {
        headers: bearer(TOKEN),
        json: { participant_a: "+15551230001", participant_b: "+15551230002", language_a: "fr", language_b: "de", from: FROM }
      })
      expect(started.status).toBe(200)
      expectSpecSchema(started.body, "TranslationCallResponse")
      const { participant_a_call_sid: sidA, participant_b_call_sid: sidB } = started.body
      const placed = twilio.requests.filter((r) => r.path.endsWith("/Calls.json"))
      const legUrl = (to: string) => String(placed.find((r) => r.form.To === to)!.form.Url)

      // B's webhook reaches replica two first, A's reaches replica one: both streams go to two.
      const legB = yield* webhook(two, legUrl("+15551230002"), sidB, "+15551230002")
      const legA = yield* webhook(one, legUrl("+15551230001"), sidA, "+15551230001")
      const host = `${two.baseUrl.replace("http", "ws")}/media-stream`
      expect(legB.streamUrl).toBe(host)
      expect(legA.streamUrl).toBe(host)

      // Twilio opens both streams where the TwiML says; the two sessions pair up there.
      const open = (leg: typeof legA, callSid: string, streamSid: string) =>
        Effect.promise(async () => {
          const client = await TwilioMediaClient.open(leg.streamUrl)
          client.connected()
          client.start({ streamSid, callSid, customParameters: leg.parameters })
          return client
        })
      const streamA = yield* open(legA, sidA, "MZ00000000000000000000000000000a01")
      const sessionA = yield* Effect.promise(() => fake.connection(0, 10_000))
      const streamB = yield* open(legB, sidB, "MZ00000000000000000000000000000b01")
      const sessionB = yield* Effect.promise(() => fake.connection(1, 10_000))
      yield* Effect.promise(() => fake.waitFor("both sessions told their job", () =>
        sessionA.eventsOf("session.update").length === 1 && sessionB.eventsOf("session.update").length === 1))
      expect(sessionA.eventsOf("session.update")[0].session.instructions).toContain("spoken in French")
      expect(sessionB.eventsOf("session.update")[0].session.instructions).toContain("spoken in German")

      const audio = Buffer.alloc(320, 0x5a)
      sessionA.reply({ audio: [audio], transcript: "Guten Tag" })
      yield* Effect.promise(() => streamB.waitFor("A's translation on B", () => streamB.of("media").length === 1))
      expect(streamB.of("media")[0].media.payload).toBe(audio.toString("base64"))
      expect(streamA.of("media")).toEqual([])

      // A hangs up on replica two: B is hung up through Twilio, whichever replica took the request.
      streamA.stop()
      yield* Effect.promise(() => streamB.closed)
      yield* eventuallyHolds(
        Effect.sync(() => twilio.requests.filter((r) => r.path.endsWith(`/Calls/${sidB}.json`) && r.form.Status === "completed")),
        (requests) => requests.length === 1,
        10_000
      )
      const logs = yield* eventually(
        call(one, "GET", `/api/v1/call-logs?call_sid=${sidA}`, { headers: bearer(TOKEN) }),
        (res) => res.body?.calls?.[0]?.ended_at != null,
        10_000
      )
      expect(logs.status).toBe(200)
    }).pipe(Effect.scoped), 120_000)
})
