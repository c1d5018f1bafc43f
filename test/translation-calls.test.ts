import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { FakeOpenAI, type FakeRealtimeConnection } from "./support/FakeOpenAIRealtime.js"
import { FakeTwilioServer, PUBLIC_BASE_URL, twilioWebhook } from "./support/FakeTwilioServer.js"
import { findAll, parseXml, streamParameters } from "./support/FakeTwilioXml.js"
import { ACME_REST, ACME_REST_ACCOUNT, frame, MediaSuite, promise, sessions, waitForLog, waitUntilGone } from "./support/MediaCalls.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { request } from "./support/TestServer.js"
import { mediaStreamUrl, TwilioMediaClient } from "./support/TwilioMediaClient.js"
import { eventually, eventuallyHolds } from "./support/Eventually.js"

const FROM = "+15550007000"
const PARTY_A = "+15551230001"
const PARTY_B = "+15551230002"

const start = (json: Record<string, unknown>) =>
  request("POST", "/api/v1/voice/translation-calls", { headers: ACME_REST.auth, json })

let streams = 0

const until = <A>(what: string, probe: () => A | undefined | false) =>
  Effect.flatMap(FakeOpenAI, (fake) => promise(() => fake.waitFor(what, probe)))

/**
 * What Twilio does once a placed leg answers: asks the leg's Url for TwiML (signed), then
 * opens the media stream the TwiML names, with its parameters in `start`. Returns the
 * stream and the interpreter session the service opened for it.
 */
const answer = (placed: { readonly form: Record<string, unknown> }, callSid: string, sessionOpens = true) =>
  Effect.gen(function*() {
    const fake = yield* FakeOpenAI
    const url = new URL(String(placed.form.Url))
    expect(url.origin).toBe(PUBLIC_BASE_URL)
    const hook = yield* twilioWebhook(`${url.pathname}${url.search}`, {
      AccountSid: ACME_REST_ACCOUNT.sid,
      CallSid: callSid,
      CallStatus: "in-progress",
      Direction: "outbound-api",
      From: String(placed.form.From),
      To: String(placed.form.To)
    }, { authToken: ACME_REST_ACCOUNT.token })
    expect(hook.status).toBe(200)
    const twiml = parseXml(hook.text)
    const parameters = streamParameters(twiml)
    const streamUrl = findAll(twiml, "Stream")[0]!.attributes.url!
    const before = fake.connections.length
    const local = yield* mediaStreamUrl()
    const stream = yield* promise(() => TwilioMediaClient.open(local))
    stream.connected()
    stream.start({ streamSid: `MZ${String(++streams).padStart(32, "7")}`, callSid, customParameters: parameters })
    if (!sessionOpens) return { stream, session: undefined as never as FakeRealtimeConnection, parameters, streamUrl }
    const session = yield* promise(() => fake.connection(before))
    yield* promise(() => fake.waitFor("session.update", () => session.eventsOf("session.update").length > 0))
    return { stream, session, parameters, streamUrl }
  })

/** A translation call with both legs answered and streaming. */
const translationCall = Effect.gen(function*() {
  const twilio = yield* FakeTwilioServer
  const before = twilio.requests.length
  const res = yield* start({ participant_a: PARTY_A, participant_b: PARTY_B, language_a: "en", language_b: "es", from: FROM })
  expect(res.status).toBe(200)
  expectSpecSchema(res.body, "TranslationCallResponse")
  expect(res.body).toMatchObject({ ok: true, error: null })
  const placed = twilio.requests.slice(before).filter((r) => r.path.endsWith("/Calls.json"))
  expect(placed.map((r) => r.form.To)).toEqual([PARTY_A, PARTY_B])
  const a = yield* answer(placed[0]!, res.body.participant_a_call_sid)
  const b = yield* answer(placed[1]!, res.body.participant_b_call_sid)
  return { roomId: res.body.room_id as string, sidA: res.body.participant_a_call_sid as string, sidB: res.body.participant_b_call_sid as string, a, b }
})

const appendedAfter = (session: FakeRealtimeConnection, count: number) =>
  promise(() => session.roundTrip()).pipe(Effect.zipRight(Effect.succeed(session.appended.slice(-count))))

/** Hang-up requests (Status=completed) the fake Twilio received for `sid`. */
const hangUps = (sid: string) =>
  Effect.map(FakeTwilioServer, (twilio) =>
    twilio.requests.filter((r) => r.path.endsWith(`/Calls/${sid}.json`) && r.form.Status === "completed"))

layer(MediaSuite(), { excludeTestServices: true })("translation calls: two legs interpreting for each other", (it) => {
  it.effect("each leg's audio reaches its own interpreter session; each session's audio plays on the other leg", () =>
    Effect.gen(function*() {
      const { a, b, roomId, sidA, sidB } = yield* translationCall
      expect(a.parameters).toMatchObject({ translation_room: roomId, language: "en", peer_language: "es" })
      expect(b.parameters).toMatchObject({ translation_room: roomId, language: "es", peer_language: "en" })

      // Each session interprets from its party's language into the other's, and nothing else.
      const sessionA = a.session.eventsOf("session.update")[0].session
      const sessionB = b.session.eventsOf("session.update")[0].session
      expect(sessionA.instructions).toContain("spoken in English")
      expect(sessionA.instructions).toContain("into Spanish")
      expect(sessionA.instructions).toMatch(/never add greetings, comments, explanations or chit-chat/i)
      expect(sessionB.instructions).toContain("spoken in Spanish")
      expect(sessionB.instructions).toContain("into English")
      expect(sessionA.audio.input.transcription.language).toBe("en")
      expect(sessionB.audio.input.transcription.language).toBe("es")
      expect(sessionA.tools).toEqual([])
      // No greeting: an interpreter only speaks to translate.
      expect(a.session.eventsOf("response.create")).toEqual([])
      expect(b.session.eventsOf("response.create")).toEqual([])

      // Caller audio up, byte-exact base64, each to its own session only.
      const framesA = [frame(1), frame(2), frame(3)]
      const framesB = [frame(11, 5), frame(12, 5)]
      for (const f of framesA) a.stream.media(f)
      for (const f of framesB) b.stream.media(f)
      yield* promise(() => a.stream.roundTrip())
      yield* promise(() => b.stream.roundTrip())
      yield* until("A's audio", () => a.session.appended.length >= 3)
      yield* until("B's audio", () => b.session.appended.length >= 2)
      expect(yield* appendedAfter(a.session, 3)).toEqual(framesA.map((f) => f.toString("base64")))
      expect(yield* appendedAfter(b.session, 2)).toEqual(framesB.map((f) => f.toString("base64")))
      expect(a.session.appended).not.toContain(framesB[0]!.toString("base64"))

      // Session A's translation plays on B's stream, byte-exact, and not on A's; then the reverse.
      const spanish = [Buffer.alloc(800, 0x11), Buffer.alloc(960, 0x22)]
      a.session.send({ type: "conversation.item.input_audio_transcription.completed", item_id: "in_a1", transcript: "Where is the station?" })
      a.session.reply({ audio: spanish, transcript: "¿Dónde está la estación?" })
      yield* promise(() => b.stream.waitFor("A's translation on B", () => b.stream.of("media").length >= 2))
      expect(b.stream.of("media").map((m) => m.media.payload)).toEqual(spanish.map((c) => c.toString("base64")))
      expect(b.stream.of("media").every((m) => m.streamSid === b.stream.streamSid)).toBe(true)
      expect(b.stream.of("mark").length).toBeGreaterThan(0)
      const english = [Buffer.alloc(480, 0x33)]
      b.session.send({ type: "conversation.item.input_audio_transcription.completed", item_id: "in_b1", transcript: "Está a la derecha." })
      b.session.reply({ audio: english, transcript: "It is on the right." })
      yield* promise(() => a.stream.waitFor("B's translation on A", () => a.stream.of("media").length >= 1))
      expect(a.stream.of("media").map((m) => m.media.payload)).toEqual(english.map((c) => c.toString("base64")))
      expect(b.stream.of("media")).toHaveLength(2)

      // Both legs are live calls of the tenant while they run.
      const live = yield* eventually(sessions(ACME_REST.auth), (list) => list.length >= 2)
      expect(live.map((s: any) => s.stream_sid).sort()).toEqual([a.stream.streamSid, b.stream.streamSid].sort())

      // Party B hangs up: both legs end, A's call is hung up through Twilio's REST API.
      b.stream.stop()
      yield* promise(() => a.stream.closed)
      yield* promise(() => b.stream.closed)
      yield* eventuallyHolds(hangUps(sidA), (requests) => requests.length === 1)
      expect(yield* hangUps(sidB)).toEqual([])
      yield* until("session A closed", () => a.session.closed)
      yield* until("session B closed", () => b.session.closed)

      yield* waitUntilGone(a.stream.streamSid, ACME_REST.auth)
      yield* waitUntilGone(b.stream.streamSid, ACME_REST.auth)

      // One record, under participant A's call, with both languages' words and translations.
      const log = yield* waitForLog(sidA, ACME_REST)
      expect(log.end_reason).toBe("stop")
      expect(log.transcript.map((t: any) => [t.role, t.content])).toEqual([
        ["user", "[A en] Where is the station?"],
        ["assistant", "[A->B es] ¿Dónde está la estación?"],
        ["user", "[B es] Está a la derecha."],
        ["assistant", "[B->A en] It is on the right."]
      ])
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ call_sid: string; media_ended_at: Date | null }>`
        select call_sid, media_ended_at from call_logs where tenant_id = ${ACME_REST.tenantId}
          and call_sid in (${sidA}, ${sidB}) order by call_sid`.pipe(Effect.orDie)
      expect(rows.filter((r) => r.media_ended_at !== null).map((r) => r.call_sid)).toEqual([sidA])
      const [room] = yield* sql<any>`
        select language_a, language_b, participant_a, participant_b, call_sid_a, call_sid_b, end_reason
        from translation_rooms where room_id = ${roomId}`.pipe(Effect.orDie)
      expect(room).toEqual({
        language_a: "en", language_b: "es", participant_a: PARTY_A, participant_b: PARTY_B,
        call_sid_a: sidA, call_sid_b: sidB, end_reason: "stop"
      })
    }))

  it.effect("barge-in: the listener starting to speak clears what they hear and cuts the other session's reply", () =>
    Effect.gen(function*() {
      const { a, b, sidA, sidB } = yield* translationCall
      // A's translation is playing on B (held: the response stays active).
      const { itemId, responseId } = a.session.reply({ audio: [Buffer.alloc(1600, 0x44), Buffer.alloc(1600, 0x45)], hold: true })
      yield* promise(() => b.stream.waitFor("A's translation on B", () => b.stream.of("media").length >= 2))
      // Twilio played the first 200 ms on B.
      b.stream.mark(b.stream.of("mark")[0].mark.name)
      yield* promise(() => b.stream.roundTrip())
      // A speaking on does not cut their own translation off.
      a.session.send({ type: "input_audio_buffer.speech_started", item_id: "in_a2", audio_start_ms: 0 })
      yield* promise(() => a.session.roundTrip())
      expect(b.stream.of("clear")).toEqual([])
      expect(a.session.eventsOf("response.cancel")).toEqual([])
      // B starts speaking: B's playback is cleared, A's session truncated at what B heard and cancelled.
      b.session.send({ type: "input_audio_buffer.speech_started", item_id: "in_b2", audio_start_ms: 0 })
      yield* promise(() => b.stream.waitFor("clear on B", () => b.stream.of("clear").length === 1))
      yield* until("cancel in A", () => a.session.eventsOf("response.cancel").length === 1)
      expect(a.session.eventsOf("conversation.item.truncate")).toEqual([
        expect.objectContaining({ item_id: itemId, content_index: 0, audio_end_ms: 200 })
      ])
      expect(a.stream.of("clear")).toEqual([])
      // Late deltas of the cancelled reply are dropped.
      const heard = b.stream.of("media").length
      a.session.send({ type: "response.output_audio.delta", response_id: responseId, item_id: itemId, delta: "AAAA" })
      yield* promise(() => a.session.roundTrip())
      yield* promise(() => b.stream.roundTrip())
      expect(b.stream.of("media")).toHaveLength(heard)

      // Party A hangs up: B is hung up through REST.
      a.stream.close()
      yield* promise(() => b.stream.closed)
      yield* eventuallyHolds(hangUps(sidB), (requests) => requests.length === 1)
      expect(yield* hangUps(sidA)).toEqual([])
      const log = yield* waitForLog(sidA, ACME_REST)
      expect(log.end_reason).toBe("caller_hangup")
    }))

  it.effect("bad input answers 400 naming what is wrong, before anything is dialled", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const before = twilio.requests.length
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ participant_a: PARTY_A, participant_b: PARTY_A, language_a: "en", language_b: "es" }, /participant_a and participant_b must be different/],
        [{ participant_a: PARTY_A, participant_b: PARTY_B, language_b: "es" }, /language_a is required/],
        [{ participant_a: PARTY_A, participant_b: PARTY_B, language_a: "en" }, /language_b is required/],
        [{ participant_a: PARTY_A, participant_b: PARTY_B, language_a: "en", language_b: "klingon" }, /language_b "klingon" is not a supported language; use one of .*es/],
        [{ participant_a: PARTY_A, participant_b: PARTY_B, language_a: "en", language_b: "EN" }, /must be different languages/],
        [{ participant_a: "5551230001", participant_b: PARTY_B, language_a: "en", language_b: "es" }, /participant_a must be an E\.164 phone number/],
        [{ participant_a: PARTY_A, participant_b: "+1 555 ab", language_a: "en", language_b: "es" }, /participant_b must be an E\.164 phone number/]
      ]
      for (const [body, message] of cases) {
        const res = yield* start({ from: FROM, ...body })
        expect(res.status, JSON.stringify(body)).toBe(400)
        expectSpecSchema(res.body, "TranslationCallResponse")
        expect(res.body.ok).toBe(false)
        expect(res.body.error).toMatch(message)
      }
      expect(twilio.requests.length).toBe(before)
    }))
})

layer(MediaSuite({ TRANSLATION_JOIN_TIMEOUT_SECONDS: "2" }), { excludeTestServices: true })("translation calls: a leg left alone", (it) => {
  it.effect("the other party never joins: the room ends after the join timeout, both calls hung up, one record", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const before = twilio.requests.length
      const res = yield* start({ participant_a: PARTY_A, participant_b: PARTY_B, language_a: "en", language_b: "ja", from: FROM })
      expect(res.status).toBe(200)
      const placed = twilio.requests.slice(before).filter((r) => r.path.endsWith("/Calls.json"))
      const a = yield* answer(placed[0]!, res.body.participant_a_call_sid)
      expect(a.session.eventsOf("session.update")[0].session.instructions).toContain("into Japanese")
      // A's words queue nowhere: no one to play the translation to, and nothing breaks.
      a.session.reply({ audio: [Buffer.alloc(160, 0x01)] })
      yield* promise(() => a.stream.closed)
      expect(a.stream.of("media")).toEqual([])
      yield* eventuallyHolds(hangUps(res.body.participant_a_call_sid), (r) => r.length === 1)
      yield* eventuallyHolds(hangUps(res.body.participant_b_call_sid), (r) => r.length === 1)
      const log = yield* waitForLog(res.body.participant_a_call_sid, ACME_REST)
      expect(log.end_reason).toBe("error")
    }))

  it.effect("OpenAI refusing a leg's session ends the room: the other party is hung up, the record says why", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const fake = yield* FakeOpenAI
      const before = twilio.requests.length
      const res = yield* start({ participant_a: PARTY_A, participant_b: PARTY_B, language_a: "en", language_b: "fr", from: FROM })
      expect(res.status).toBe(200)
      const placed = twilio.requests.slice(before).filter((r) => r.path.endsWith("/Calls.json"))
      fake.refuseNext = 1
      const a = yield* answer(placed[0]!, res.body.participant_a_call_sid, false)
      yield* promise(() => a.stream.closed)
      yield* eventuallyHolds(hangUps(res.body.participant_b_call_sid), (r) => r.length === 1)
      const log = yield* waitForLog(res.body.participant_a_call_sid, ACME_REST)
      expect(log.end_reason).toBe("upstream_failure")
      yield* waitUntilGone(a.stream.streamSid, ACME_REST.auth)
    }))
})
