import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { FakeOpenAI, type FakeRealtimeConnection } from "./support/FakeOpenAIRealtime.js"
import { FakeElevenLabsServer, speechOf, type StreamFailure, withFakeElevenLabs } from "./support/FakeElevenLabs.js"
import { putTenant } from "./support/FakeTwilioServer.js"
import { frame, MediaSuite, promise, startCall, waitForLog } from "./support/MediaCalls.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, request } from "./support/TestServer.js"

const KEY = "el-secret-key-0123456789abcdef"
const VOICED = {
  display_name: "Acme Voiced",
  voice: "verse",
  audio_output_provider: "elevenlabs",
  elevenlabs: { api_key: KEY, voice_id: "voice_rachel", model_id: "eleven_flash_v2_5" }
}

/** A tenant speaking with ElevenLabs (the fake knows its key); returns what a call and the API need. */
const voicedTenant = (tenantId: string, config: Record<string, unknown> = VOICED) =>
  Effect.gen(function*() {
    (yield* FakeElevenLabsServer).keys.add(KEY)
    const auth = yield* putTenant(tenantId, config)
    return { tenantId, auth }
  })

/** The last session.update asked for audio output (the model speaks). */
const speaksAudio = (connection: FakeRealtimeConnection) =>
  connection.eventsOf("session.update").at(-1)?.session.output_modalities?.[0] === "audio"

const health = (auth: Record<string, string>) =>
  Effect.map(request("GET", "/health", { headers: auth }), (res) => {
    expect(res.status).toBe(200)
    expectSpecSchema(res.body, "HealthResponse")
    expect(res.text).not.toContain(KEY)
    return res.body
  })

const diagnostics = (tenantId: string) =>
  Effect.map(request("GET", "/api/v1/admin/tenants/audio-providers?include_uncached=true", { headers: adminHeaders }), (res) => {
    expect(res.status).toBe(200)
    expectSpecSchema(res.body, "AdminAudioProviderDiagnosticsResponse")
    expect(res.text).not.toContain(KEY)
    return { body: res.body, item: res.body.items.find((i: any) => i.tenant_id === tenantId) }
  })

layer(
  withFakeElevenLabs((el) => MediaSuite({ ELEVENLABS_BASE_URL: el.url, ELEVENLABS_FIRST_AUDIO_TIMEOUT_MS: "800", METRICS_ENABLED: "true" })),
  { excludeTestServices: true }
)("ElevenLabs voice", (it) => {
  it.effect("speaks the model's text with ElevenLabs: text streamed as it arrives, ulaw_8000 relayed byte-exact with marks", () =>
    Effect.gen(function*() {
      const el = yield* FakeElevenLabsServer
      const fake = yield* FakeOpenAI
      const tenant = yield* voicedTenant("voiced-a")
      const greeting = "Hello there, this is Acme."
      fake.onResponseCreate = (connection) => connection.replyText(greeting)
      const streamsBefore = el.streams.length
      const { client, upstream, callSid } = yield* startCall(tenant.tenantId)

      const session = (yield* promise(() => fake.waitFor("session.update", () => upstream.eventsOf("session.update")[0]))).session
      expect(session.output_modalities).toEqual(["text"])
      expect(session.audio.input.format).toEqual({ type: "audio/pcmu" })
      const stream = yield* promise(() => el.waitFor("an ElevenLabs stream", () => el.streams[streamsBefore]))
      const expected = Buffer.concat(speechOf(greeting).map((c) => c.audio))
      yield* promise(() => client.waitFor("the spoken greeting", () => client.audio().length >= expected.length))
      expect(client.audio().equals(expected)).toBe(true)
      expect(client.audio().equals(Buffer.concat(stream.sent.map((b64) => Buffer.from(b64, "base64"))))).toBe(true)
      expect(client.of("media").every((m) => m.streamSid === client.streamSid)).toBe(true)
      expect(client.of("mark").length).toBeGreaterThan(0)

      // The real protocol: voice and model in the URL, ulaw_8000, the key as a header, text in deltas.
      expect(stream.voiceId).toBe("voice_rachel")
      expect(stream.query.get("model_id")).toBe("eleven_flash_v2_5")
      expect(stream.query.get("output_format")).toBe("ulaw_8000")
      expect(stream.headers["xi-api-key"]).toBe(KEY)
      expect(stream.received[0]).toEqual({ text: " " })
      const deltas = stream.received.slice(1, -1)
      expect(deltas.length).toBeGreaterThan(1)
      expect(deltas.every((m) => m.try_trigger_generation === true)).toBe(true)
      expect(deltas.map((m) => m.text).join("")).toBe(greeting)
      expect(stream.received.at(-1)).toEqual({ text: "" })

      // Health and diagnostics say ElevenLabs is what speaks, while the call runs.
      const now = yield* health(tenant.auth)
      expect(now).toMatchObject({
        configuredAudioOutputProvider: "elevenlabs",
        effectiveAudioOutputProvider: "elevenlabs",
        elevenlabsConfigured: true,
        elevenlabsReady: true,
        audioProviderFallback: false,
        activeSessions: 1
      })
      const { item } = yield* diagnostics(tenant.tenantId)
      expect(item).toMatchObject({
        configured_provider: "elevenlabs",
        effective_provider: "elevenlabs",
        elevenlabs_ready: true,
        fallback_active: false,
        fallback_reason: null,
        active_sessions: 1
      })

      client.playAll()
      client.stop()
      yield* promise(() => client.closed)
      const log = yield* waitForLog(callSid, tenant)
      expect(log.voice).toBe("elevenlabs:voice_rachel")
      expect(log.transcript.map((t: any) => [t.role, t.content])).toEqual([["assistant", greeting]])
    }))

  it.effect("barge-in clears Twilio, stops the ElevenLabs stream, cancels the response and keeps only the words heard", () =>
    Effect.gen(function*() {
      const el = yield* FakeElevenLabsServer
      const fake = yield* FakeOpenAI
      const tenant = yield* voicedTenant("voiced-b")
      const text = "Our opening hours are nine to five on every weekday."
      let held: { responseId: string; itemId: string } | undefined
      fake.onResponseCreate = (connection) => {
        held = connection.replyText(text, { hold: true })
      }
      el.eager = true
      const streamsBefore = el.streams.length
      const { client, upstream, callSid } = yield* startCall(tenant.tenantId)
      try {
        const stream = yield* promise(() => el.waitFor("an ElevenLabs stream", () => el.streams[streamsBefore]))
        yield* promise(() => client.waitFor("speech", () => client.of("mark").length >= 2))
        const marks = client.of("mark").map((m) => m.mark.name)
        client.mark(marks[0]) // 2000 bytes = 250 ms played
        yield* promise(() => client.roundTrip())
        upstream.send({ type: "input_audio_buffer.speech_started", audio_start_ms: 900, item_id: "item_user_1" })
        yield* promise(() => client.waitFor("clear", () => client.of("clear").length === 1))
        yield* promise(() => el.waitFor("the stream closed", () => stream.closed))
        yield* promise(() => fake.waitFor("cancel", () => upstream.eventsOf("response.cancel").length === 1))
        // A text item has no audio to truncate: it is replaced by what the caller heard.
        expect(upstream.eventsOf("conversation.item.truncate")).toEqual([])
        const deleted = yield* promise(() => fake.waitFor("delete", () => upstream.eventsOf("conversation.item.delete")[0]))
        expect(deleted.item_id).toBe(held!.itemId)
        const replaced = upstream.eventsOf("conversation.item.create").find((e) => e.item.role === "assistant")
        const heard: string = replaced.item.content[0].text
        expect(heard.length).toBeGreaterThan(0)
        expect(text.startsWith(heard)).toBe(true)
        expect(heard.length).toBeLessThan(text.length)
        // Late text of the cancelled response opens no new stream.
        const streams = el.streams.length
        upstream.send({ type: "response.output_text.delta", response_id: held!.responseId, item_id: held!.itemId, delta: " late" })
        upstream.send({ type: "response.done", response: { id: held!.responseId, status: "cancelled" } })
        yield* promise(() => upstream.roundTrip())
        expect(el.streams.length).toBe(streams)

        client.stop()
        yield* promise(() => client.closed)
        const log = yield* waitForLog(callSid, tenant)
        expect(log.transcript.map((t: any) => [t.role, t.content])).toEqual([["assistant", heard]])
      } finally {
        el.eager = false
      }
    }))

  const fallsBack = (failure: StreamFailure) =>
    it.effect(`ElevenLabs failing mid-call (${failure}) -> the rest of the call is spoken by OpenAI, and it says so`, () =>
      Effect.gen(function*() {
        const el = yield* FakeElevenLabsServer
        const fake = yield* FakeOpenAI
        const tenant = yield* voicedTenant(`voiced-${failure}`)
        const greeting = "Hi, this is Acme."
        const reply = Array.from({ length: 5 }, (_, i) => frame(i, 33))
        fake.onResponseCreate = (connection) => {
          if (speaksAudio(connection)) connection.reply({ audio: reply, transcript: "Let me check that." })
          else connection.replyText(connection.eventsOf("response.create").length === 1 ? greeting : "Let me check that for you.")
        }
        el.failNext = [undefined, failure]
        const { client, upstream, callSid } = yield* startCall(tenant.tenantId)
        const spoken = Buffer.concat(speechOf(greeting).map((c) => c.audio))
        yield* promise(() => client.waitFor("the greeting", () => client.audio().length >= spoken.length))
        client.playAll()

        client.dtmf("1") // asks for the next reply: its stream fails
        yield* promise(() => fake.waitFor("the audio session", () => speaksAudio(upstream)))
        yield* promise(() => client.waitFor("OpenAI audio", () => client.audio().length >= spoken.length + 800))
        expect(client.audio().equals(Buffer.concat([spoken, ...reply]))).toBe(true)
        const failedItem = upstream.eventsOf("conversation.item.delete")[0]
        expect(failedItem?.item_id).toMatch(/^item_/)

        const now = yield* health(tenant.auth)
        expect(now).toMatchObject({
          configuredAudioOutputProvider: "elevenlabs",
          effectiveAudioOutputProvider: "openai",
          audioProviderFallback: true,
          elevenlabsConfigured: true
        })
        const { body, item } = yield* diagnostics(tenant.tenantId)
        expect(item).toMatchObject({ effective_provider: "openai", fallback_active: true, fallback_reason: "elevenlabs_unavailable", active_sessions: 1 })
        expect(body.fallback_unavailable).toBeGreaterThanOrEqual(1)
        const metrics = yield* request("GET", "/metrics", { headers: adminHeaders })
        expect(metrics.text).toMatch(new RegExp(`voice_audio_provider_fallbacks_total\\{[^}]*tenant="voiced-${failure}"[^}]*\\} 1`))
        expect(metrics.text).not.toContain(KEY)

        client.stop()
        yield* promise(() => client.closed)
        const log = yield* waitForLog(callSid, tenant)
        expect(log.voice).toBe("verse") // the record names who spoke last: OpenAI's voice
        expect(log.transcript.map((t: any) => t.content)).toEqual([greeting, "[DTMF 1]", "Let me check that."])
        // The call is over: nothing is falling back any more.
        const after = yield* health(tenant.auth)
        expect(after).toMatchObject({ effectiveAudioOutputProvider: "elevenlabs", audioProviderFallback: false, activeSessions: 0 })
      }))
  fallsBack("error")
  fallsBack("silent")
  fallsBack("drop")
  fallsBack("refuse")

  it.effect("without a key, or with one ElevenLabs refuses, calls speak with OpenAI audio and nothing says ready", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      const el = yield* FakeElevenLabsServer
      fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(1, 9)], transcript: "Hello." })
      const unconfigured = { tenantId: "voiceless", auth: yield* putTenant("voiceless", { audio_output_provider: "elevenlabs", voice: "verse" }) }
      const refused = {
        tenantId: "voiced-refused",
        auth: yield* putTenant("voiced-refused", { ...VOICED, elevenlabs: { api_key: "not-a-key-0123456789", voice_id: "v1" } })
      }
      expect(yield* health(unconfigured.auth)).toMatchObject({
        configuredAudioOutputProvider: "elevenlabs",
        effectiveAudioOutputProvider: "openai",
        audioProviderFallback: true,
        elevenlabsConfigured: false,
        elevenlabsReady: false
      })
      expect(yield* health(refused.auth)).toMatchObject({
        effectiveAudioOutputProvider: "openai",
        audioProviderFallback: true,
        elevenlabsConfigured: true,
        elevenlabsReady: false
      })
      const { body } = yield* diagnostics("voiceless")
      expect(body.items.find((i: any) => i.tenant_id === "voiceless")).toMatchObject({ fallback_reason: "elevenlabs_not_configured", elevenlabs_ready: false })
      expect(body.items.find((i: any) => i.tenant_id === "voiced-refused")).toMatchObject({ fallback_reason: "elevenlabs_unavailable", elevenlabs_ready: false })

      for (const tenant of [unconfigured, refused]) {
        const streams = el.streams.length
        const { client, upstream, callSid } = yield* startCall(tenant.tenantId)
        const opened = yield* promise(() => fake.waitFor("session.update", () => upstream.eventsOf("session.update")[0]))
        expect(opened.session.output_modalities).toEqual(["audio"])
        yield* promise(() => client.waitFor("OpenAI audio", () => client.of("media").length >= 1))
        expect(client.audio().equals(frame(1, 9))).toBe(true)
        expect(el.streams.length).toBe(streams)
        client.stop()
        yield* promise(() => client.closed)
        expect((yield* waitForLog(callSid, tenant)).voice).toBe("verse")
      }

      // An outage is seen by the check (a key not checked before: results are cached per key).
      const outageKey = "el-outage-key-0123456789abcdef"
      el.keys.add(outageKey)
      el.down = true
      try {
        const auth = yield* putTenant("voiced-outage", { ...VOICED, elevenlabs: { ...VOICED.elevenlabs, api_key: outageKey } })
        expect(yield* health(auth)).toMatchObject({ elevenlabsConfigured: true, elevenlabsReady: false, effectiveAudioOutputProvider: "openai" })
      } finally {
        el.down = false
      }
    }))

  it.effect("the key is a secret: redacted in tenant reads, absent from health and diagnostics", () =>
    Effect.gen(function*() {
      yield* voicedTenant("voiced-secret")
      const read = yield* request("GET", "/api/v1/admin/tenants/voiced-secret", { headers: adminHeaders })
      expect(read.status).toBe(200)
      expect(read.text).not.toContain(KEY)
      expect(JSON.stringify(read.body)).toContain("voice_rachel")
      const runtime = yield* request("GET", "/api/v1/admin/tenants/voiced-secret/runtime", { headers: adminHeaders })
      expect(runtime.text).not.toContain(KEY)
      const cached = yield* request("GET", "/api/v1/admin/tenants/cached", { headers: adminHeaders })
      expect(cached.status).toBe(200)
      expectSpecSchema(cached.body, "AdminCachedTenantsResponse")
      expect(cached.text).not.toContain(KEY)
    }))

  it.effect("a bad voice_id is refused with a 400 naming the key", () =>
    Effect.gen(function*() {
      const res = yield* request("PUT", "/api/v1/admin/tenants/voiced-bad", {
        headers: adminHeaders,
        json: { tenant_id: "voiced-bad", elevenlabs: { voice_id: "../../v1/user" } }
      })
      expect(res.status).toBe(400)
      expect(res.text).toContain("elevenlabs.voice_id")
    }))
})
