import { expect, layer } from "@effect/vitest"
import { ConfigProvider, Context, Effect, Layer } from "effect"
import * as net from "node:net"
import { AppConfig } from "../src/Config.js"
import { TwilioClient } from "../src/Twilio/Client.js"
import { encodeForm } from "../src/Twilio/Rest.js"
import { type FakeTwilio, startFakeTwilio } from "./support/FakeTwilio.js"
import { accountSid } from "./support/FakeTwilioServer.js"

const SID = accountSid("client")
const TOKEN = "client-twilio-auth-token"
const credentials = { accountSid: SID, authToken: TOKEN }
const FROM = "+15550007000"
const TO = "+15557650100"
const TIMEOUT_MS = 400

class Fake extends Context.Tag("Fake")<Fake, FakeTwilio>() {}

/** TwilioClient as the service builds it, with TWILIO_API_BASE_URL at `baseUrl`. */
const clientAt = (baseUrl: string) =>
  TwilioClient.Default.pipe(
    Layer.provide(AppConfig.Default),
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(
      new Map([["TWILIO_API_BASE_URL", baseUrl], ["TWILIO_REQUEST_TIMEOUT_MS", String(TIMEOUT_MS)]])
    )))
  )

/** A port nothing listens on (bound, then closed). */
const deadPort = Effect.async<number>((resume) => {
  const server = net.createServer().listen(0, "127.0.0.1", () => {
    const { port } = server.address() as net.AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})

const suite = Layer.unwrapScoped(Effect.map(startFakeTwilio, (fake) => {
  fake.accounts.set(SID, TOKEN)
  return Layer.merge(clientAt(fake.baseUrl), Layer.succeed(Fake, fake))
}))

layer(suite, { excludeTestServices: true })("Twilio REST client (our own, over fetch)", (it) => {
  it.effect("places a call with Twilio's parameter names, Basic auth and form encoding; fetches and ends it", () =>
    Effect.gen(function*() {
      const twilio = yield* TwilioClient
      const fake = yield* Fake
      const call = yield* twilio.createCall(credentials, {
        to: TO,
        from: FROM,
        url: "https://voice.test/api/v1/outbound-call?tenant=acme",
        statusCallback: "https://voice.test/api/v1/call-status?tenant=acme",
        statusCallbackEvent: ["initiated", "answered", "completed"],
        machineDetection: "DetectMessageEnd",
        asyncAmd: "true",
        record: true
      })
      expect(call).toMatchObject({ status: "queued", to: TO, from: FROM, direction: "outbound-api", answeredBy: null })
      expect(call.sid).toMatch(/^CA[0-9a-f]{32}$/)
      const sent = fake.requests.at(-1)!
      expect([sent.method, sent.path]).toEqual(["POST", `/2010-04-01/Accounts/${SID}/Calls.json`])
      expect([sent.accountSid, sent.authToken]).toEqual([SID, TOKEN])
      expect(sent.form).toEqual({
        To: TO,
        From: FROM,
        Url: "https://voice.test/api/v1/outbound-call?tenant=acme",
        StatusCallback: "https://voice.test/api/v1/call-status?tenant=acme",
        StatusCallbackEvent: ["initiated", "answered", "completed"],
        MachineDetection: "DetectMessageEnd",
        AsyncAmd: "true",
        Record: "true"
      })

      expect((yield* twilio.fetchCall(credentials, call.sid)).sid).toBe(call.sid)
      expect(fake.requests.at(-1)!.method).toBe("GET")
      const ended = yield* twilio.updateCall(credentials, call.sid, { status: "completed" })
      expect(ended.status).toBe("completed")
      expect(fake.requests.at(-1)!.form).toEqual({ Status: "completed" })
      const redirected = yield* twilio.updateCall(credentials, call.sid, { twiml: "<Response><Hangup/></Response>" })
      expect(redirected.sid).toBe(call.sid)
      expect(fake.requests.at(-1)!.form).toEqual({ Twiml: "<Response><Hangup/></Response>" })
    }))

  it.effect("a 4xx is TwilioRejected with Twilio's status, code and message", () =>
    Effect.gen(function*() {
      const twilio = yield* TwilioClient
      const fake = yield* Fake
      const invalid = yield* Effect.flip(twilio.createCall(credentials, { to: "+1", from: FROM, url: "https://voice.test/x" }))
      expect(invalid).toMatchObject({
        _tag: "TwilioRejected",
        httpStatus: 400,
        code: 21211,
        message: "Invalid 'To' Phone Number: +1",
        moreInfo: "https://www.twilio.com/docs/errors/21211"
      })
      const unknown = yield* Effect.flip(twilio.fetchCall(credentials, `CA${"f".repeat(32)}`))
      expect(unknown).toMatchObject({ _tag: "TwilioRejected", httpStatus: 404, code: 20404 })
      fake.accounts.set(SID, "rotated-at-twilio")
      const unauthenticated = yield* Effect.flip(twilio.fetchCall(credentials, `CA${"f".repeat(32)}`))
      expect(unauthenticated).toMatchObject({ _tag: "TwilioRejected", httpStatus: 401, code: 20003, message: "Authenticate" })
      // The cached client follows the tenant's new token.
      const rotated = yield* Effect.either(twilio.createCall({ accountSid: SID, authToken: "rotated-at-twilio" }, {
        to: TO,
        from: FROM,
        url: "https://voice.test/x"
      }))
      fake.accounts.set(SID, TOKEN)
      expect(rotated._tag).toBe("Right")
    }))

  it.effect("a SID that is not one path segment, or an account SID that is not AC..., never leaves the process", () =>
    Effect.gen(function*() {
      const twilio = yield* TwilioClient
      const fake = yield* Fake
      const before = fake.requests.length
      const badSid = yield* Effect.flip(twilio.updateCall(credentials, "CA123/../Messages", { status: "completed" }))
      expect(badSid).toMatchObject({ _tag: "TwilioRejected", httpStatus: 400, code: null })
      expect(badSid.message).toContain("request not sent")
      const notAnAccount = yield* Effect.flip(twilio.fetchCall({ accountSid: "SK123", authToken: "x" }, "CA1"))
      expect(notAnAccount).toMatchObject({ _tag: "TwilioRejected", httpStatus: 401 })
      const badRoom = yield* Effect.flip(twilio.addParticipant(credentials, "room?x=1", { from: FROM, to: TO }))
      expect(badRoom).toMatchObject({ _tag: "TwilioRejected", httpStatus: 400, code: null })
      expect(fake.requests.length).toBe(before)
      // A conference name with spaces is one segment, percent-encoded.
      const spaced = yield* twilio.addParticipant(credentials, "front desk", { from: FROM, to: TO })
      expect(fake.requests.at(-1)!.path).toBe(`/2010-04-01/Accounts/${SID}/Conferences/front%20desk/Participants.json`)
      expect(spaced.conferenceSid).toMatch(/^CF/)
    }))

  it.effect("5xx, a dropped connection, an unreadable answer, a dead port and silence are TwilioUnavailable, within the timeout", () =>
    Effect.gen(function*() {
      const twilio = yield* TwilioClient
      const fake = yield* Fake
      const fetch = twilio.fetchCall(credentials, `CA${"e".repeat(32)}`)
      fake.failWith = "server_error"
      const failing = yield* Effect.flip(fetch)
      fake.failWith = "unavailable"
      const unavailable = yield* Effect.flip(fetch)
      fake.failWith = "throttled"
      const throttled = yield* Effect.flip(fetch)
      fake.failWith = "drop"
      const dropped = yield* Effect.flip(fetch)
      fake.failWith = "garbage"
      const garbled = yield* Effect.flip(fetch)
      fake.failWith = "hang"
      const started = Date.now()
      const silent = yield* Effect.flip(fetch)
      const waited = Date.now() - started
      fake.failWith = "none"
      expect(failing).toMatchObject({ _tag: "TwilioUnavailable", httpStatus: 500, code: 20500 })
      expect(unavailable).toMatchObject({ _tag: "TwilioUnavailable", httpStatus: 503, code: 20503, message: "Service Unavailable" })
      expect(throttled).toMatchObject({ _tag: "TwilioUnavailable", httpStatus: 429, code: 20429 })
      // Twilio answered: it did not act, so a retry cannot duplicate anything.
      for (const answered of [failing, unavailable, throttled]) expect(answered).not.toHaveProperty("outcomeUnknown", true)
      expect(garbled).toMatchObject({ _tag: "TwilioUnavailable", message: "Twilio answered something unreadable" })
      expect(dropped).toMatchObject({ _tag: "TwilioUnavailable", httpStatus: null })
      expect(dropped.message).toContain("unreachable")
      expect(silent).toMatchObject({
        _tag: "TwilioUnavailable",
        httpStatus: null,
        message: "Twilio is unreachable: no answer in time",
        outcomeUnknown: true
      })
      expect(waited).toBeGreaterThanOrEqual(TIMEOUT_MS - 50)
      expect(waited).toBeLessThan(TIMEOUT_MS + 1_000)

      const port = yield* deadPort
      const dead = yield* Effect.flip(
        Effect.flatMap(TwilioClient, (client) => client.fetchCall(credentials, `CA${"d".repeat(32)}`)).pipe(
          Effect.provide(clientAt(`http://127.0.0.1:${port}`))
        )
      )
      expect(dead).toMatchObject({ _tag: "TwilioUnavailable", httpStatus: null })
      expect(dead).not.toHaveProperty("outcomeUnknown", true)
      expect(dead.message).toContain("ECONNREFUSED")
    }))

  it.effect("conference participants: add by room name, mute and hold, list across pages, remove", () =>
    Effect.gen(function*() {
      const twilio = yield* TwilioClient
      const fake = yield* Fake
      const first = yield* twilio.addParticipant(credentials, "support-room-7", { from: FROM, to: TO, label: "customer" })
      expect(first).toMatchObject({ label: "customer", muted: false, hold: false, status: "queued" })
      expect(first.conferenceSid).toMatch(/^CF/)
      const second = yield* twilio.addParticipant(credentials, first.conferenceSid, {
        from: FROM,
        to: "+15557650101",
        muted: true
      })
      expect([second.conferenceSid, second.muted]).toEqual([first.conferenceSid, true])
      const held = yield* twilio.updateParticipant(credentials, first.conferenceSid, first.callSid, { hold: true })
      expect([held.hold, held.muted]).toEqual([true, false])
      expect(fake.requests.at(-1)!.form).toEqual({ Hold: "true" })
      // One per page: the client follows next_page_uri (a path under the account) to the end, or up to `limit`.
      const before = fake.requests.length
      const listed = yield* twilio.listParticipants(credentials, first.conferenceSid, { pageSize: 1 })
      expect(listed.map((p) => p.callSid)).toEqual([first.callSid, second.callSid])
      expect(fake.requests.slice(before).map((r) => r.query)).toEqual([{ PageSize: "1" }, { PageSize: "1", Page: "1" }])
      const limited = yield* twilio.listParticipants(credentials, first.conferenceSid, { pageSize: 1, limit: 1 })
      expect(limited.map((p) => p.callSid)).toEqual([first.callSid])
      expect(fake.requests.length - before).toBe(3)
      const filtered = yield* twilio.listParticipants(credentials, first.conferenceSid, { muted: true, limit: 5 })
      expect(filtered.map((p) => p.callSid)).toEqual([second.callSid])
      expect(fake.requests.at(-1)!.query).toEqual({ Muted: "true", PageSize: "5" })
      yield* twilio.removeParticipant(credentials, first.conferenceSid, second.callSid)
      expect((yield* twilio.listParticipants(credentials, first.conferenceSid)).map((p) => p.callSid)).toEqual([
        first.callSid
      ])
      const gone = yield* Effect.flip(twilio.removeParticipant(credentials, first.conferenceSid, second.callSid))
      expect(gone).toMatchObject({ _tag: "TwilioRejected", httpStatus: 404, code: 20404 })
      const noRoom = yield* Effect.flip(twilio.listParticipants(credentials, `CF${"0".repeat(32)}`))
      expect(noRoom).toMatchObject({ _tag: "TwilioRejected", httpStatus: 404, code: 20404 })
    }))

  it.effect("messages and recordings", () =>
    Effect.gen(function*() {
      const twilio = yield* TwilioClient
      const fake = yield* Fake
      const message = yield* twilio.sendMessage(credentials, { to: TO, from: FROM, body: "Your callback is at 3pm." })
      expect(message).toMatchObject({ status: "queued", to: TO, from: FROM, errorMessage: null })
      expect(fake.messages.at(-1)).toMatchObject({ sid: message.sid, body: "Your callback is at 3pm." })
      const empty = yield* Effect.flip(twilio.sendMessage(credentials, { to: TO, from: FROM }))
      expect(empty).toMatchObject({ _tag: "TwilioRejected", code: 21602, message: "Message body is required." })

      const recordingSid = `RE${"1".repeat(32)}`
      fake.recordings.set(recordingSid, {
        sid: recordingSid,
        account_sid: SID,
        call_sid: `CA${"2".repeat(32)}`,
        conference_sid: null,
        status: "completed",
        duration: "42",
        media_url: `https://api.twilio.com/2010-04-01/Accounts/${SID}/Recordings/${recordingSid}`
      })
      expect(yield* twilio.fetchRecording(credentials, recordingSid)).toEqual({
        sid: recordingSid,
        status: "completed",
        callSid: `CA${"2".repeat(32)}`,
        conferenceSid: null,
        duration: "42",
        mediaUrl: `https://api.twilio.com/2010-04-01/Accounts/${SID}/Recordings/${recordingSid}`
      })
      const missing = yield* Effect.flip(twilio.fetchRecording(credentials, `RE${"9".repeat(32)}`))
      expect(missing).toMatchObject({ _tag: "TwilioRejected", httpStatus: 404 })
    }))
})

layer(Layer.empty)("Twilio's form encoding", (it) => {
  it("PascalCase names, one pair per array element, booleans as true/false, nothing for undefined", () => {
    const form = encodeForm({
      to: "+15557650100",
      statusCallbackEvent: ["initiated", "completed"],
      record: true,
      earlyMedia: false,
      timeout: 20,
      twiml: "<Response><Say>a & b</Say></Response>",
      label: undefined
    })
    expect([...form]).toEqual([
      ["To", "+15557650100"],
      ["StatusCallbackEvent", "initiated"],
      ["StatusCallbackEvent", "completed"],
      ["Record", "true"],
      ["EarlyMedia", "false"],
      ["Timeout", "20"],
      ["Twiml", "<Response><Say>a & b</Say></Response>"]
    ])
    expect(form.toString()).toContain("Twiml=%3CResponse%3E%3CSay%3Ea+%26+b%3C%2FSay%3E%3C%2FResponse%3E")
  })
})
