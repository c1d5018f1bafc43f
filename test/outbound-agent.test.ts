import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { FakeOpenAI } from "./support/FakeOpenAIRealtime.js"
import { FakeTwilioServer, twilioWebhook } from "./support/FakeTwilioServer.js"
import { parseXml, streamParameters } from "./support/FakeTwilioXml.js"
import { ACME_REST, ACME_REST_ACCOUNT, MediaSuite, promise, sessions } from "./support/MediaCalls.js"
import { request } from "./support/TestServer.js"
import { mediaStreamUrl, TwilioMediaClient } from "./support/TwilioMediaClient.js"

const FROM = "+15550009000"
const CUSTOMER = "+15557653000"

layer(MediaSuite(), { excludeTestServices: true })("make-call's agent choices reach the session", (it) => {
  it.effect("agent_name and greeting travel make-call -> TwiML -> stream start -> session.update and the greeting", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const fake = yield* FakeOpenAI
      const placed = yield* request("POST", "/api/v1/make-call", {
        headers: ACME_REST.auth,
        json: { to: CUSTOMER, from: FROM, agent_name: "Sam from Acme", greeting: "Hi, Sam here from Acme." }
      })
      expect(placed.status).toBe(200)
      const callSid: string = placed.body.call_sid
      const url = new URL(String(twilio.requests.at(-1)!.form.Url))
      expect(url.searchParams.get("agent_name")).toBe("Sam from Acme")

      // Twilio asks for TwiML once the callee answers, then opens the stream with its parameters.
      const answered = yield* twilioWebhook(`${url.pathname}${url.search}`, {
        CallSid: callSid,
        AccountSid: ACME_REST_ACCOUNT.sid,
        From: FROM,
        To: CUSTOMER,
        Direction: "outbound-api",
        CallStatus: "in-progress"
      }, { authToken: ACME_REST_ACCOUNT.token })
      expect(answered.status).toBe(200)
      const parameters = streamParameters(parseXml(answered.text))
      expect(parameters).toMatchObject({ agent_name: "Sam from Acme", greeting: "Hi, Sam here from Acme." })

      const before = fake.connections.length
      const client = yield* Effect.flatMap(mediaStreamUrl(), (ws) => promise(() => TwilioMediaClient.open(ws)))
      client.connected()
      client.start({ streamSid: "MZagent0000000000000000000000001", callSid, customParameters: parameters })
      const upstream = yield* promise(() => fake.connection(before))
      yield* promise(() => upstream.roundTrip())
      yield* promise(() => fake.waitFor("the greeting", () => upstream.eventsOf("response.create").length > 0))
      const [update] = upstream.eventsOf("session.update")
      expect(update.session.instructions).toContain("Your name is \"Sam from Acme\".")
      expect(update.session.audio.output.voice).toBe("verse")
      expect(JSON.stringify(upstream.eventsOf("response.create")[0])).toContain("Hi, Sam here from Acme.")
      const live = yield* sessions(ACME_REST.auth)
      expect(live.find((s) => s.stream_sid === "MZagent0000000000000000000000001")).toMatchObject({
        agent_name: "Sam from Acme",
        greeting: "Hi, Sam here from Acme."
      })
      client.stop()
    }))
})
