import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { eventually } from "./support/Eventually.js"
import { FakeOpenAI, withFakeOpenAI } from "./support/FakeOpenAIRealtime.js"
import { accountSid, agentWithRoute, newCallSid, putTenant, twilioWebhook } from "./support/FakeTwilioServer.js"
import { findAll, parseXml, streamParameters } from "./support/FakeTwilioXml.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { makeTestServer, request } from "./support/TestServer.js"
import { mediaStreamUrl, TwilioMediaClient } from "./support/TwilioMediaClient.js"

const promise = <A>(run: () => Promise<A>) => Effect.promise(run)

layer(withFakeOpenAI((fake) => makeTestServer({ OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "sk-e2e" })))(
  "a phone call, end to end",
  (it) => {
    it.effect("webhook -> TwiML -> media stream with its token -> hang-up -> call log, voice session and outcome", () =>
      Effect.gen(function*() {
        const fake = yield* FakeOpenAI
        const auth = yield* putTenant("acme", { display_name: "Acme Plumbing" })
        yield* agentWithRoute("acme", { phoneNumber: "+15550005000", greeting: "Thanks for calling Acme!" })
        fake.onResponseCreate = (connection, event) => {
          const greeting = typeof event.response?.instructions === "string"
          connection.reply({
            audio: [Buffer.alloc(160, 1), Buffer.alloc(160, 2)],
            transcript: greeting ? "Thanks for calling Acme!" : "Our plumber can come tomorrow at nine."
          })
        }

        // 1. Twilio asks what to do with the call.
        const callSid = newCallSid()
        const webhook = yield* twilioWebhook("/api/v1/incoming-call", {
          CallSid: callSid,
          AccountSid: accountSid("acme"),
          From: "+15557654321",
          To: "+15550005000",
          CallStatus: "ringing"
        })
        expect(webhook.status).toBe(200)
        const twiml = parseXml(webhook.text)
        const [stream] = findAll(twiml, "Stream")
        expect(stream!.attributes.url).toBe("ws://voice.test/media-stream")
        const parameters = streamParameters(twiml)
        expect(parameters.stream_token).toBeTypeOf("string")

        // 2. Twilio opens the media stream (no query string) and sends the TwiML's parameters.
        const before = fake.connections.length
        const url = yield* mediaStreamUrl()
        const client = yield* promise(() => TwilioMediaClient.open(url))
        client.connected()
        client.start({ streamSid: "MZe2e0000000000000000000000000001", callSid, customParameters: parameters })
        const upstream = yield* promise(() => fake.connection(before))
        yield* promise(() => client.waitFor("the greeting", () => client.of("media").length >= 2))
        const session = upstream.eventsOf("session.update")[0].session
        expect(session.audio.output.voice).toBe("verse") // from the published agent version
        expect(upstream.eventsOf("response.create")[0].response.instructions).toContain("Thanks for calling Acme!")

        // The call is live while it lasts (listed once its ledger row is written, alongside the greeting).
        const live = yield* eventually(
          request("GET", "/api/v1/sessions", { headers: auth }),
          (res) => res.body?.sessions?.length > 0
        )
        expect(live.status).toBe(200)
        expectSpecSchema(live.body, "SessionsListResponse")
        expect(live.body).toMatchObject({
          ok: true,
          tenant: "acme",
          sessions: [{
            stream_sid: "MZe2e0000000000000000000000000001",
            call_type: "inbound",
            customer_phone: "+15557654321",
            agent_name: "Front Desk",
            greeting: "Thanks for calling Acme!",
            escalated: false,
            escalation_target: null
          }]
        })

        // 3. A turn: the caller speaks, the agent answers.
        client.playAll()
        for (let i = 0; i < 25; i++) client.media(Buffer.alloc(160, 0x7f))
        upstream.send({ type: "input_audio_buffer.speech_started", item_id: "item_caller_1" })
        upstream.send({ type: "input_audio_buffer.speech_stopped", item_id: "item_caller_1" })
        upstream.send({ type: "conversation.item.input_audio_transcription.completed", item_id: "item_caller_1", transcript: "Can someone fix my sink?" })
        upstream.reply({ audio: [Buffer.alloc(160, 3)], transcript: "Our plumber can come tomorrow at nine." })
        yield* promise(() => client.waitFor("the answer", () => client.of("media").length >= 3))

        // 4. The caller hangs up.
        client.stop()
        yield* promise(() => client.closed)

        // 5. What the tenant can read afterwards.
        const listed = yield* eventually(
          request("GET", `/api/v1/call-logs?call_sid=${callSid}`, { headers: auth }),
          (res) => res.body?.calls?.[0]?.status === "completed"
        )
        expectSpecSchema(listed.body, "CallLogsListResponse")
        expect(listed.body.calls).toHaveLength(1)
        const detail = yield* request("GET", `/api/v1/call-logs/${listed.body.calls[0].id}`, { headers: auth })
        expectSpecSchema(detail.body, "CallLogDetailResponse")
        expect(detail.body.call).toMatchObject({
          call_sid: callSid,
          stream_sid: "MZe2e0000000000000000000000000001",
          direction: "inbound",
          from_number: "+15557654321",
          to_number: "+15550005000",
          voice: "verse",
          status: "completed"
        })
        expect(detail.body.call.transcript.map((t: any) => [t.role, t.content])).toEqual([
          ["assistant", "Thanks for calling Acme!"],
          ["user", "Can someone fix my sink?"],
          ["assistant", "Our plumber can come tomorrow at nine."]
        ])

        const voiceSession = yield* eventually(
          request("GET", "/api/v1/voice-sessions/by-stream/MZe2e0000000000000000000000000001", { headers: auth }),
          (res) => res.status === 200
        )
        expect(voiceSession.body).toMatchObject({
          agent_name: "Front Desk",
          call_sid: callSid,
          call_type: "inbound",
          customer_phone: "+15557654321",
          status: "completed",
          voice: "verse",
          turn_count: 3
        })
        const outcome = yield* request("GET", "/api/v1/voice-outcomes/by-stream/MZe2e0000000000000000000000000001", {
          headers: auth
        })
        expect(outcome.status).toBe(200)
        expect(JSON.stringify(outcome.body)).toContain("resolved")

        const latency = yield* request("GET", "/api/v1/call-logs/latency?window=all", { headers: auth })
        expect(latency.status).toBe(200)
      }))
  }
)
