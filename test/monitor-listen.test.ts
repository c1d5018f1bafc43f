import { SqlClient } from "@effect/sql"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect } from "effect"
import { StreamTokens } from "../src/Auth/StreamTokens.js"
import { decode, encode } from "../src/Monitoring/MuLaw.js"
import { Listeners, MAX_LISTENER_BUFFER_BYTES, type Tappable } from "../src/Monitoring/Listeners.js"
import type { TwilioSocket } from "../src/Media/TwilioSocket.js"
import { Mixer } from "../src/Monitoring/Mixer.js"
import { eventuallyHolds } from "./support/Eventually.js"
import { FakeOpenAI, type FakeRealtimeConnection, makeFakeOpenAIRealtime } from "./support/FakeOpenAIRealtime.js"
import { type FakeTwilio, startFakeTwilio } from "./support/FakeTwilio.js"
import { createdCalls } from "./support/FakeTwilioCallbacks.js"
import { FakeTwilioServer } from "./support/FakeTwilioServer.js"
import { findAll, parseXml, streamParameters } from "./support/FakeTwilioXml.js"
import { ACME, ACME_REST, frame, MediaSuite, promise, startCall, waitForLog } from "./support/MediaCalls.js"
import { call, type Replica, startReplica } from "./support/Replicas.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"
import { adminHeaders, bearer, request } from "./support/TestServer.js"
import { mediaStreamUrl, TwilioMediaClient } from "./support/TwilioMediaClient.js"

// --- a reference G.711 mu-law, written from the standard here (not the service's tables) ------

const refDecode = (byte: number): number => {
  const u = 255 - byte
  const exponent = (u >> 4) & 7
  const magnitude = ((u & 15) * 8 + 132) * 2 ** exponent - 132
  return u >= 128 ? 0 - magnitude : magnitude
}

const refEncode = (sample: number): number => {
  const clipped = Math.max(-32768, Math.min(32767, sample))
  const sign = clipped < 0 ? 128 : 0
  const biased = Math.min(Math.abs(clipped), 32635) + 132
  const exponent = Math.floor(Math.log2(biased)) - 7
  const mantissa = Math.floor(biased / 2 ** (exponent + 3)) % 16
  return 255 - (sign + exponent * 16 + mantissa)
}

/** What a listener must hear for one caller frame and the agent bytes played with it (silence past their end). */
const referenceMix = (caller: Buffer, agent: Buffer): Buffer =>
  Buffer.from(Array.from(caller, (c, i) => refEncode(refDecode(c) + refDecode(agent[i] ?? 0xff))))

describe("mu-law codec and mixer", () => {
  it("decodes the known values and agrees with the reference on every byte and sample", () => {
    expect(decode(0xff)).toBe(0)
    expect(decode(0x7f)).toBe(0)
    expect(decode(0x00)).toBe(-32124)
    expect(decode(0x80)).toBe(32124)
    expect(encode(0)).toBe(0xff)
    expect(encode(32767)).toBe(0x80)
    expect(encode(-32768)).toBe(0x00)
    expect(encode(100_000)).toBe(0x80)
    for (let byte = 0; byte < 256; byte++) expect(decode(byte)).toBe(refDecode(byte))
    const wrong: Array<number> = []
    for (let sample = -32768; sample <= 32767; sample++) if (encode(sample) !== refEncode(sample)) wrong.push(sample)
    expect(wrong).toEqual([])
  })

  it("mixes queued agent audio into caller frames, pads with silence, drops on clear and past its bound", () => {
    const mixer = new Mixer(400)
    const agent = frame(3)
    mixer.agent(agent.subarray(0, 100))
    const caller = frame(8)
    expect(mixer.mix(caller)).toEqual(referenceMix(caller, agent.subarray(0, 100)))
    expect(mixer.queued).toBe(0)
    mixer.agent(Buffer.alloc(500, 0x80))
    expect([mixer.queued, mixer.dropped]).toEqual([400, 100])
    mixer.clear()
    expect(mixer.mix(caller)).toEqual(referenceMix(caller, Buffer.alloc(0)))
  })
})

/** A listener's socket as Listeners sees it: what it was sent, how it was closed, how much it holds unsent. */
const stubListener = (unsent: number) => {
  const sent: Array<string> = []
  const closes: Array<[number, string]> = []
  let ended = 0
  const socket = {
    socket: { writableLength: unsent },
    sendMedia: (bytes: Buffer, start: number, end: number) => void sent.push(bytes.toString("latin1", start, end)),
    close: (code: number, reason: string) => void closes.push([code, reason])
  } as unknown as TwilioSocket
  return { listener: { socket, callSid: null, end: () => void ended++ }, sent, closes, ended: () => ended }
}

describe("listeners of a call", () => {
  it("a listener whose socket backs up is dropped; the others hear on; with none left the call is untapped", () => {
    const call: Tappable = { tap: undefined }
    const listeners = new Listeners(call)
    const fast = stubListener(0)
    const slow = stubListener(MAX_LISTENER_BUFFER_BYTES + 1)
    listeners.add(fast.listener)
    listeners.add(slow.listener)
    expect(call.tap).toBe(listeners)
    const base64 = Buffer.from(frame(1).toString("base64"), "latin1")
    listeners.caller(base64, 0, base64.length)
    expect(fast.sent).toEqual([referenceMix(frame(1), Buffer.alloc(0)).toString("base64")])
    expect(slow.sent).toEqual([])
    expect(slow.closes).toEqual([[1013, "listener too slow"]])
    expect(slow.ended()).toBe(1)
    expect(listeners.size).toBe(1)
    listeners.remove(fast.listener)
    expect(call.tap).toBeUndefined()
  })
})

// --- helpers ---------------------------------------------------------------------------------

const SUPERVISOR = "+15557770001"

const monitor = <R>(baseRequest: (json: unknown) => Effect.Effect<{ status: number; body: any }, never, R>, json: unknown) =>
  Effect.tap(baseRequest(json), (res) => Effect.sync(() => expectSpecSchema(res.body, "SessionActionResponse")))

/** The last listen-only leg the service asked the fake Twilio to place to `to`: its TwiML stream, its call. */
const placedLeg = (twilio: FakeTwilio, to: string) => {
  const created = createdCalls(twilio).filter((r) => r.form.To === to).at(-1)
  if (created === undefined) throw new Error(`no call to ${to} was created`)
  const twiml = parseXml(String(created.form.Twiml))
  const [stream] = findAll(twiml, "Stream")
  expect(findAll(twiml, "Connect")).toHaveLength(1)
  const legSid = [...twilio.calls.values()].filter((c: any) => c.to === to).map((c: any) => c.sid as string).at(-1)!
  return { form: created.form, url: stream!.attributes.url!, parameters: streamParameters(twiml), legSid }
}

let legs = 0

/** Connects as Twilio does once the supervisor answers: the leg's own stream, with the TwiML's parameters. */
const connectLeg = (url: string, leg: { readonly parameters: Record<string, string>; readonly legSid: string }) =>
  promise(async () => {
    const client = await TwilioMediaClient.open(url)
    client.connected()
    client.start({ streamSid: `MZleg${String(++legs).padStart(29, "0")}`, callSid: leg.legSid, customParameters: leg.parameters })
    return client
  })

/** Caller silence, frame by frame, until the listener hears something: it is attached. */
const untilAttached = (caller: TwilioMediaClient, listener: TwilioMediaClient) =>
  promise(async () => {
    const deadline = Date.now() + 10_000
    while (listener.of("media").length === 0) {
      if (Date.now() > deadline) throw new Error("the listener never heard the call")
      caller.media(Buffer.alloc(160, 0xff))
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })

const payloads = (client: TwilioMediaClient, from: number) =>
  client.of("media").slice(from).map((m) => Buffer.from(m.media.payload, "base64"))

/**
 * The agent says `agent` (one delta per frame) and the caller then speaks `callerFrames`: the
 * listener hears each caller frame mixed with the agent's audio as it played, byte for byte.
 */
const hearsTheMix = (
  caller: TwilioMediaClient,
  upstream: FakeRealtimeConnection,
  listener: TwilioMediaClient,
  agent: ReadonlyArray<Buffer>,
  callerFrames: ReadonlyArray<Buffer>
) =>
  promise(async () => {
    const played = caller.of("media").length
    upstream.reply({ audio: agent })
    await caller.waitFor("the agent's audio", () => caller.of("media").length >= played + agent.length)
    const heard = listener.of("media").length
    for (const f of callerFrames) caller.media(f)
    await listener.waitFor("the mixed frames", () => listener.of("media").length >= heard + callerFrames.length)
    const agentBytes = Buffer.concat(agent)
    const expected = callerFrames.map((f, i) => referenceMix(f, agentBytes.subarray(i * 160, (i + 1) * 160)))
    expect(payloads(listener, heard)).toEqual(expected)
    for (const m of listener.of("media").slice(heard)) expect(m.streamSid).toBe(listener.streamSid)
  })

const hangUpsOf = (twilio: FakeTwilio, sid: string) =>
  twilio.requests.filter((r) => r.method === "POST" && r.path.endsWith(`/Calls/${sid}.json`) && r.form.Status === "completed")

// --- one replica -----------------------------------------------------------------------------

const action = (streamSid: string, name: string, headers = ACME_REST.auth) => (json: unknown) =>
  request("POST", `/api/v1/sessions/${streamSid}/actions/${name}`, { headers, json })

const logRows = (streamSid: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<any>`select action, supervisor, target, metadata from supervisor_actions where stream_sid = ${streamSid} order by created_at`
      .pipe(Effect.orDie))

layer(MediaSuite(), { excludeTestServices: true })("monitor: a listen-only leg", (it) => {
  it.effect("the leg is dialled with a stream TwiML, hears caller + agent mixed, is never heard; the call's end hangs it up", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const fake = yield* FakeOpenAI
      const { callSid, client, streamSid, upstream } = yield* startCall(ACME_REST.tenantId)
      yield* promise(() => client.waitFor("the greeting", () => client.of("media").length >= 1))

      const res = yield* monitor(action(streamSid, "monitor"), { supervisor: "dana", target: SUPERVISOR })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(res.body).toEqual({ ok: true, message: `Monitoring: a listen-only audio leg was dialled to ${SUPERVISOR}` })
      // Dialled from the call's own number, to a <Connect><Stream> on this replica (PUBLIC_BASE_URL here).
      const leg = placedLeg(twilio, SUPERVISOR)
      expect(leg.form.From).toBe("+15551230002")
      expect(leg.url).toBe("ws://voice.test/media-stream")
      expect(leg.parameters.monitor_of).toBe(streamSid)
      expect(leg.parameters.stream_token).toMatch(/^v1\./)
      const [row] = yield* logRows(streamSid)
      expect(row).toEqual({
        action: "monitor",
        supervisor: "dana",
        target: SUPERVISOR,
        metadata: { outcome: "applied", message: `Monitoring: a listen-only audio leg was dialled to ${SUPERVISOR}` }
      })

      const upstreams = fake.connections.length
      const listener = yield* connectLeg(yield* mediaStreamUrl(), leg)
      yield* untilAttached(client, listener)
      // Agent audio queued ahead of playback, then caller frames: the third has no agent audio left.
      yield* hearsTheMix(client, upstream, listener, [frame(3), Buffer.alloc(160, 0x80)], [frame(11), Buffer.alloc(160, 0x81), frame(12)])
      // Barge-in: the agent audio the caller will never hear is not mixed either.
      const cleared = client.of("clear").length
      upstream.reply({ audio: [frame(5)], hold: true })
      yield* promise(() => client.waitFor("more agent audio", () => client.of("media").some((m) => m.media.payload === frame(5).toString("base64"))))
      upstream.send({ type: "input_audio_buffer.speech_started" })
      yield* promise(() => client.waitFor("the clear", () => client.of("clear").length > cleared))
      const heard = listener.of("media").length
      client.media(frame(13))
      yield* promise(() => listener.waitFor("the frame after the clear", () => listener.of("media").length > heard))
      expect(payloads(listener, heard)).toEqual([referenceMix(frame(13), Buffer.alloc(0))])

      // Listen-only: what the supervisor says never reaches the model, and the leg opens no session of its own.
      const whisper = Buffer.alloc(160, 0x42)
      for (let i = 0; i < 5; i++) listener.media(whisper)
      yield* promise(() => listener.roundTrip())
      client.media(frame(14))
      yield* promise(() => fake.waitFor("the caller's next frame upstream", () => upstream.appended.includes(frame(14).toString("base64"))))
      expect(upstream.appended).not.toContain(whisper.toString("base64"))
      expect(fake.connections.length).toBe(upstreams)

      // The call ends: the leg's stream is closed and the leg hung up through Twilio.
      client.stop()
      expect((yield* promise(() => listener.closed)).code).toBe(1000)
      yield* eventuallyHolds(Effect.sync(() => hangUpsOf(twilio, leg.legSid)), (r) => r.length === 1)
      expect(hangUpsOf(twilio, leg.legSid)).toHaveLength(1)
      yield* waitForLog(callSid, ACME_REST)
    }))

  it.effect("a supervisor who hangs up is only detached; the call's end hangs up the legs still on the line", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const { callSid, client, streamSid } = yield* startCall(ACME_REST.tenantId)
      yield* promise(() => client.waitFor("the greeting", () => client.of("media").length >= 1))
      const other = "+15557770002"
      expect((yield* action(streamSid, "monitor")({ supervisor: "dana", target: SUPERVISOR })).status).toBe(200)
      expect((yield* action(streamSid, "monitor")({ supervisor: "lee", target: other })).status).toBe(200)
      const url = yield* mediaStreamUrl()
      const first = placedLeg(twilio, SUPERVISOR)
      const second = placedLeg(twilio, other)
      const a = yield* connectLeg(url, first)
      const b = yield* connectLeg(url, second)
      yield* untilAttached(client, a)
      yield* untilAttached(client, b)
      // Dana hangs up: her stream stops; the call and Lee's leg go on.
      a.stop()
      a.close()
      yield* promise(() => a.closed)
      const heard = b.of("media").length
      client.media(frame(20))
      yield* promise(() => b.waitFor("the call after dana left", () => b.of("media").length > heard))
      expect(payloads(b, heard).at(-1)).toEqual(referenceMix(frame(20), Buffer.alloc(0)))

      client.stop()
      yield* promise(() => b.closed)
      yield* eventuallyHolds(Effect.sync(() => hangUpsOf(twilio, second.legSid)), (r) => r.length === 1)
      expect(hangUpsOf(twilio, second.legSid)).toHaveLength(1)
      expect(hangUpsOf(twilio, first.legSid)).toHaveLength(0)
      yield* waitForLog(callSid, ACME_REST)
      // A leg (with a fresh token) for a call that has ended is turned away.
      const token = yield* (yield* StreamTokens).mint({
        tenantId: ACME_REST.tenantId,
        callSid,
        agentVersionId: null,
        direction: "inbound",
        from: "+15551230002",
        to: SUPERVISOR,
        monitorOf: streamSid
      })
      const late = yield* connectLeg(url, { legSid: first.legSid, parameters: { stream_token: token } })
      const refused = yield* promise(() => late.closed)
      expect(refused).toEqual({ code: 1008, reason: "the monitored call is not running on this replica" })
    }))

  it.effect("monitor without a target only marks the call; Twilio failures are 503 or 409 and logged, nothing marked", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const { callSid, client, streamSid } = yield* startCall(ACME_REST.tenantId)
      const before = createdCalls(twilio).length
      const plain = yield* monitor(action(streamSid, "monitor"), { supervisor: "dana" })
      expect(plain.body).toEqual({ ok: true, message: "Monitoring" })
      expect(createdCalls(twilio)).toHaveLength(before)

      twilio.failWith = "server_error"
      const down = yield* monitor(action(streamSid, "monitor"), { supervisor: "lee", target: SUPERVISOR })
      twilio.failWith = "none"
      expect(down.status).toBe(503)
      expect(down.body.ok).toBe(false)
      expect(down.body.message).toMatch(/^The supervisor could not be called: /)
      twilio.rejectedNumbers.add("+15557770009")
      const rejected = yield* monitor(action(streamSid, "monitor"), { supervisor: "lee", target: "+15557770009" })
      expect(rejected.status).toBe(409)
      expect(rejected.body.message).toMatch(/Twilio did not call the supervisor/)
      const invalid = yield* monitor(action(streamSid, "monitor"), { supervisor: "lee", target: "not a number" })
      expect(invalid.status).toBe(400)

      const sql = yield* SqlClient.SqlClient
      const [live] = yield* sql<any>`select monitored_by from live_calls where stream_sid = ${streamSid}`.pipe(Effect.orDie)
      expect(live.monitored_by).toBe("dana")
      expect((yield* logRows(streamSid)).map((r: any) => [r.supervisor, r.target, r.metadata.outcome])).toEqual([
        ["dana", null, "applied"],
        ["lee", SUPERVISOR, "failed"],
        ["lee", "+15557770009", "failed"],
        ["lee", "not a number", "failed"]
      ])
      client.stop()
      yield* waitForLog(callSid, ACME_REST)
    }))

  it.effect("a tenant without Twilio credentials is refused (409); the call goes on", () =>
    Effect.gen(function*() {
      const { callSid, client, streamSid } = yield* startCall(ACME.tenantId)
      const res = yield* monitor(action(streamSid, "monitor", ACME.auth), { supervisor: "dana", target: SUPERVISOR })
      expect(res.status).toBe(409)
      expect(res.body.message).toBe("The call refused: Twilio is not configured for this tenant")
      client.stop()
      yield* waitForLog(callSid)
    }))
})

// --- two replicas ----------------------------------------------------------------------------

const TOKEN = "mon-token-0123456789"
const ACCOUNT = { sid: `AC${"ef".repeat(16)}`, token: "twilio-auth-token-mon" }

describe("monitor across replicas", () => {
  it.live("a monitor sent to replica A dials a leg whose stream reaches replica B, which holds the call", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeOpenAIRealtime
      const twilio = yield* startFakeTwilio
      twilio.accounts.set(ACCOUNT.sid, ACCOUNT.token)
      const url = yield* testDatabaseUrl
      const env = {
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: "sk-mon",
        TWILIO_API_BASE_URL: twilio.baseUrl,
        MEDIA_HEARTBEAT_SECONDS: "1",
        MEDIA_REAP_AFTER_SECONDS: "60",
        REPLICA_BASE_URL: "{BASE_URL}"
      }
      const [a, b] = yield* Effect.all([startReplica(url, env), startReplica(url, env)], { concurrency: 2 })
      const put = yield* call(a, "PUT", "/api/v1/admin/tenants/mon", {
        headers: adminHeaders,
        json: { tenant_id: "mon", auth_token: TOKEN, twilio: { account_sid: ACCOUNT.sid, auth_token: ACCOUNT.token } }
      })
      expect(put.status).toBe(200)

      const ws = (replica: Replica) => `${replica.baseUrl.replace("http", "ws")}/media-stream`
      const caller = yield* promise(() => TwilioMediaClient.open(ws(b), bearer(TOKEN)))
      const streamSid = `MZmon${"0".repeat(28)}1`
      caller.connected()
      caller.start({ streamSid, callSid: `CAmon${"0".repeat(28)}1`, customParameters: { direction: "inbound", from: "+15551230001", to: "+15551230002" } })
      yield* promise(() => caller.waitFor("the greeting", () => caller.of("media").length >= 1, 10_000))
      const upstream = fake.connections[0]!
      yield* eventuallyHolds(
        call(a, "GET", "/api/v1/sessions", { headers: bearer(TOKEN) }),
        (res) => (res.body?.sessions ?? []).some((s: { stream_sid: string }) => s.stream_sid === streamSid)
      )

      const res = yield* call(a, "POST", `/api/v1/sessions/${streamSid}/actions/monitor`, {
        headers: bearer(TOKEN),
        json: { supervisor: "dana", target: SUPERVISOR }
      })
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(res.body).toEqual({ ok: true, message: `Monitoring: a listen-only audio leg was dialled to ${SUPERVISOR}` })
      const leg = placedLeg(twilio, SUPERVISOR)
      // The stream goes to the replica that holds the call, not the one that was asked.
      expect(leg.url).toBe(ws(b))
      const listener = yield* connectLeg(leg.url, leg)
      yield* untilAttached(caller, listener)
      yield* hearsTheMix(caller, upstream, listener, [frame(31), frame(32)], [frame(41), frame(42)])
      expect(fake.connections).toHaveLength(1)
      // Twilio failing on B reaches A as the same 503.
      twilio.failWith = "server_error"
      const down = yield* call(a, "POST", `/api/v1/sessions/${streamSid}/actions/monitor`, {
        headers: bearer(TOKEN),
        json: { supervisor: "lee", target: "+15557770003" }
      })
      twilio.failWith = "none"
      expect(down.status).toBe(503)
      expect(down.body.message).toMatch(/^The supervisor could not be called: /)

      caller.stop()
      expect((yield* promise(() => listener.closed)).code).toBe(1000)
      yield* eventuallyHolds(Effect.sync(() => hangUpsOf(twilio, leg.legSid)), (r) => r.length === 1, 10_000)
      expect(hangUpsOf(twilio, leg.legSid)).toHaveLength(1)
    }).pipe(Effect.scoped), 120_000)
})
