import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Schedule } from "effect"
import { StreamTokens } from "../src/Auth/StreamTokens.js"
import { FakeOpenAI, withFakeOpenAI } from "./support/FakeOpenAIRealtime.js"
import { mediaStreamUrl, TwilioMediaClient } from "./support/TwilioMediaClient.js"
import { startFakeTwilio } from "./support/FakeTwilio.js"
import { FakeTwilioServer } from "./support/FakeTwilioServer.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, bearer, makeTestServer, request } from "./support/TestServer.js"

const promise = <A>(run: () => Promise<A>) => Effect.promise(run)

/** A distinct 20 ms mu-law frame per index, so order and content are both checked. */
const frame = (index: number, salt = 0) => Buffer.from(Array.from({ length: 160 }, (_, i) => (index * 7 + i + salt) & 0xff))

let calls = 0

const setup = Effect.gen(function*() {
  const put = yield* request("PUT", "/api/v1/admin/tenants/acme", {
    headers: adminHeaders,
    json: { tenant_id: "acme", auth_token: "acme-token-0123456789", display_name: "Acme Plumbing", voice: "verse" }
  })
  expect(put.status).toBe(200)
})

/** A connected, authenticated call: the Twilio side and its upstream session. */
const startCall = Effect.gen(function*() {
  const fake = yield* FakeOpenAI
  const n = ++calls
  const callSid = `CA${String(n).padStart(32, "0")}`
  const streamSid = `MZ${String(n).padStart(32, "0")}`
  const token = yield* (yield* StreamTokens).mint({
    tenantId: "acme",
    callSid,
    agentVersionId: null,
    direction: "inbound",
    from: "+15551230001",
    to: "+15551230002"
  })
  const url = yield* mediaStreamUrl()
  const before = fake.connections.length
  const client = yield* promise(() => TwilioMediaClient.open(url))
  client.connected()
  client.start({ streamSid, callSid, customParameters: { stream_token: token } })
  const upstream = yield* promise(() => fake.connection(before))
  return { client, upstream, callSid, streamSid }
})

const auth = { headers: bearer("acme-token-0123456789") }

/** The calls the API lists for a Twilio call SID. */
const listed = (callSid: string) =>
  Effect.map(request("GET", `/api/v1/call-logs?call_sid=${callSid}`, auth), (res) => {
    expect(res.status).toBe(200)
    return res.body.calls as Array<any>
  })

/** The call log through the API, once the bridge has written it; plus its end reason (not exposed). */
const waitForLog = (callSid: string) =>
  Effect.gen(function*() {
    const [summary] = yield* listed(callSid).pipe(
      Effect.filterOrFail((calls) => calls.length === 1 && calls[0].ended_at !== null),
      Effect.retry(Schedule.spaced("20 millis").pipe(Schedule.compose(Schedule.recurs(250)))),
      Effect.orDie
    )
    const detail = yield* request("GET", `/api/v1/call-logs/${summary.id}`, auth)
    expect(detail.status).toBe(200)
    expectSpecSchema(detail.body, "CallLogDetailResponse")
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql<{ end_reason: string; turn_latency_stats: any }>`
      select end_reason, turn_latency_stats from call_logs where tenant_id = 'acme' and id = ${summary.id}`.pipe(Effect.orDie)
    return { ...detail.body.call, end_reason: row!.end_reason, turn_latency_stats: row!.turn_latency_stats }
  })

/** The service with a fake OpenAI Realtime and a fake Twilio REST API. */
const MediaSuite = withFakeOpenAI((fake) =>
  Layer.unwrapScoped(Effect.map(startFakeTwilio, (twilio) =>
    Layer.merge(
      makeTestServer({ OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "sk-test-key", TWILIO_API_BASE_URL: twilio.baseUrl }),
      Layer.succeed(FakeTwilioServer, twilio)
    )))
)

layer(MediaSuite)(
  "media stream",
  (it) => {
    it.effect("configures the session, greets first and relays audio byte-exact both ways, early audio included", () =>
      Effect.gen(function*() {
        yield* setup
        const fake = yield* FakeOpenAI
        const reply = Array.from({ length: 12 }, (_, i) => frame(i, 100))
        fake.onResponseCreate = (connection) => connection.reply({ audio: reply, transcript: "Hi, this is Acme." })
        fake.acceptDelayMs = 300 // caller audio arrives before the upstream is open
        const url = yield* mediaStreamUrl()
        const token = yield* (yield* StreamTokens).mint({
          tenantId: "acme",
          callSid: "CA000000000000000000000000000000aa",
          agentVersionId: null,
          direction: "inbound",
          from: "+15551230001",
          to: "+15551230002"
        })
        const before = fake.connections.length
        const client = yield* promise(() => TwilioMediaClient.open(url))
        client.connected()
        client.start({ streamSid: "MZ000000000000000000000000000000aa", callSid: "CA000000000000000000000000000000aa", customParameters: { stream_token: token } })
        const sent: Array<Buffer> = []
        for (let i = 0; i < 10; i++) {
          sent.push(frame(i))
          client.media(frame(i))
        }
        const upstream = yield* promise(() => fake.connection(before))
        fake.acceptDelayMs = 0
        for (let i = 10; i < 60; i++) {
          sent.push(frame(i))
          client.media(frame(i))
        }
        yield* promise(() => fake.waitFor("all caller audio", () => upstream.appended.length >= 60))
        expect(upstream.appended).toEqual(sent.map((b) => b.toString("base64")))

        // session.update first, then the greeting, then audio
        const types = upstream.received.map((e) => e.type)
        expect(types[0]).toBe("session.update")
        expect(types[1]).toBe("response.create")
        expect(types.slice(2, 12).every((t) => t === "input_audio_buffer.append")).toBe(true)
        const session = upstream.received[0].session
        expect(session).toMatchObject({
          type: "realtime",
          model: "gpt-realtime",
          audio: {
            input: { format: { type: "audio/pcmu" }, turn_detection: { type: "server_vad" }, transcription: { model: expect.any(String) } },
            output: { format: { type: "audio/pcmu" }, voice: "verse" }
          }
        })
        expect(session.instructions).toContain("Acme Plumbing")
        expect(session.tools.map((t: any) => t.name)).toEqual(expect.arrayContaining(["end_call", "escalate_call_to_human"]))
        expect(upstream.url).toBe("/v1/realtime?model=gpt-realtime")
        expect(upstream.headers.authorization).toBe("Bearer sk-test-key")

        yield* promise(() => client.waitFor("the greeting audio", () => client.of("media").length >= 12))
        expect(client.audio().equals(Buffer.concat(reply))).toBe(true)
        expect(client.of("media")[0].streamSid).toBe("MZ000000000000000000000000000000aa")
        expect(client.of("mark").length).toBeGreaterThan(0)

        client.stop()
        const closed = yield* promise(() => client.closed)
        expect(closed.code).toBe(1000)
        const log = yield* waitForLog("CA000000000000000000000000000000aa")
        expect(log).toMatchObject({
          end_reason: "stop",
          stream_sid: "MZ000000000000000000000000000000aa",
          voice: "verse",
          model: "gpt-realtime",
          direction: "inbound",
          from_number: "+15551230001",
          status: "completed"
        })
        expect(log.transcript.map((t: any) => [t.role, t.content])).toEqual([["assistant", "Hi, this is Acme."]])
      }))

    it.effect("barge-in clears Twilio, truncates at the audio played and drops the cancelled response's late audio", () =>
      Effect.gen(function*() {
        const fake = yield* FakeOpenAI
        const reply = Array.from({ length: 30 }, (_, i) => frame(i, 50)) // 600 ms: three 200 ms marks
        let held: { responseId: string; itemId: string } | undefined
        fake.onResponseCreate = (connection) => {
          held = connection.reply({ audio: reply, hold: true })
        }
        const { client, upstream } = yield* startCall
        yield* promise(() => client.waitFor("reply audio", () => client.of("media").length >= 30))
        const marks = client.of("mark").map((m) => m.mark.name)
        expect(marks).toHaveLength(3)
        client.mark(marks[0]) // the first mark: 1600 bytes = 200 ms played
        yield* Effect.sleep("50 millis")
        upstream.send({ type: "input_audio_buffer.speech_started", audio_start_ms: 1000, item_id: "item_user_1" })
        yield* promise(() => client.waitFor("clear", () => client.of("clear").length === 1))
        const truncate = yield* promise(() =>
          fake.waitFor("truncate", () => upstream.eventsOf("conversation.item.truncate")[0])
        )
        expect(truncate).toMatchObject({ item_id: held!.itemId, content_index: 0, audio_end_ms: 200 })
        yield* promise(() => fake.waitFor("cancel", () => upstream.eventsOf("response.cancel").length === 1))
        // Late deltas of the cancelled response never reach the caller.
        const mediaBefore = client.of("media").length
        upstream.send({ type: "response.output_audio.delta", response_id: held!.responseId, item_id: held!.itemId, delta: frame(99).toString("base64") })
        upstream.send({ type: "response.done", response: { id: held!.responseId, status: "cancelled" } })
        // A new response after the interruption is relayed again.
        upstream.reply({ audio: [frame(1, 1)] })
        yield* promise(() => client.waitFor("the next reply", () => client.of("media").length === mediaBefore + 1))
        expect(client.of("media").at(-1).media.payload).toBe(frame(1, 1).toString("base64"))
        client.stop()
        yield* promise(() => client.closed)
      }))

    it.effect("runs a tool and sends its output back; end_call hangs up after the goodbye has played", () =>
      Effect.gen(function*() {
        const fake = yield* FakeOpenAI
        fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(1), frame(2)], transcript: "Sure." })
        const { callSid, client, upstream } = yield* startCall
        yield* promise(() => client.waitFor("greeting", () => client.of("media").length >= 2))
        client.playAll()
        upstream.callTool("check_business_hours", { timezone: "America/New_York" }, "call_hours")
        const output = yield* promise(() =>
          fake.waitFor("function output", () =>
            upstream.eventsOf("conversation.item.create").find((e) => e.item.type === "function_call_output"))
        )
        expect(output.item.call_id).toBe("call_hours")
        expect(JSON.parse(output.item.output)).toBeTypeOf("object")
        const createdAfter = upstream.received.indexOf(output)
        expect(upstream.received.slice(createdAfter + 1).some((e) => e.type === "response.create")).toBe(true)

        upstream.callTool("end_call", { reason: "caller said goodbye" }, "call_bye")
        yield* promise(() => client.waitFor("the goodbye", () => client.of("media").length >= 6))
        yield* Effect.sleep("100 millis")
        expect(client.received.at(-1)?.event).not.toBe(undefined)
        client.playAll() // Twilio reports the goodbye as played
        const closed = yield* promise(() => client.closed)
        expect(closed.code).toBe(1000)
        const log = yield* waitForLog(callSid)
        expect(log.end_reason).toBe("end_call_tool")
        expect(log.function_calls.map((f: any) => f.name)).toEqual(["check_business_hours", "end_call"])
        expect(log.function_calls[1].arguments).toEqual({ reason: "caller said goodbye" })
        expect(log.function_calls[0].duration_ms).toBeTypeOf("number")
      }))

    it.effect("accepts the beta event names too", () =>
      Effect.gen(function*() {
        const fake = yield* FakeOpenAI
        fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(8), frame(9)], transcript: "Beta hello.", beta: true })
        const { callSid, client } = yield* startCall
        yield* promise(() => client.waitFor("beta audio", () => client.of("media").length >= 2))
        expect(client.audio().equals(Buffer.concat([frame(8), frame(9)]))).toBe(true)
        client.stop()
        const log = yield* waitForLog(callSid)
        expect(log.transcript.map((t: any) => t.content)).toEqual(["Beta hello."])
      }))

    it.effect("forwards DTMF to the model as conversation input", () =>
      Effect.gen(function*() {
        const fake = yield* FakeOpenAI
        fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(3)] })
        const { client, upstream } = yield* startCall
        yield* promise(() => client.waitFor("greeting", () => client.of("media").length >= 1))
        client.dtmf("7")
        const item = yield* promise(() =>
          fake.waitFor("dtmf item", () =>
            upstream.eventsOf("conversation.item.create").find((e) => e.item.role === "user"))
        )
        expect(item.item.content[0]).toMatchObject({ type: "input_text", text: expect.stringContaining("7") })
        yield* promise(() => fake.waitFor("a reply to the key", () => upstream.eventsOf("response.create").length === 2))
        client.stop()
        yield* promise(() => client.closed)
      }))

    it.effect("reconnects once with the conversation so far, then ends cleanly when the upstream fails again", () =>
      Effect.gen(function*() {
        const fake = yield* FakeOpenAI
        fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(4)], transcript: "Welcome to Acme." })
        const { callSid, client, upstream } = yield* startCall
        yield* promise(() => client.waitFor("greeting", () => client.of("media").length >= 1))
        client.playAll()
        upstream.send({ type: "conversation.item.input_audio_transcription.completed", item_id: "u1", content_index: 0, transcript: "Is the shop open?" })
        yield* Effect.sleep("50 millis")
        const before = fake.connections.length
        fake.acceptDelayMs = 400
        upstream.drop()
        // Caller audio during the outage (after the drop is noticed) is relayed to the new session.
        yield* Effect.sleep("100 millis")
        client.media(frame(42))
        const second = yield* promise(() => fake.connection(before))
        fake.acceptDelayMs = 0
        yield* promise(() => fake.waitFor("the replay", () => second.appended.length === 1))
        const types = second.received.map((e) => e.type)
        expect(types[0]).toBe("session.update")
        const replayed = second.eventsOf("conversation.item.create").map((e) => [e.item.role, e.item.content[0].text])
        expect(replayed).toEqual([["assistant", "Welcome to Acme."], ["user", "Is the shop open?"]])
        expect(second.appended).toEqual([frame(42).toString("base64")])
        expect(second.eventsOf("response.create")).toHaveLength(0) // nothing was being said: no new greeting

        fake.refuseNext = 5
        second.drop()
        yield* promise(() => client.waitFor("clear", () => client.of("clear").length >= 1))
        const closed = yield* promise(() => client.closed)
        expect(closed.code).toBe(1000)
        fake.refuseNext = 0
        const log = yield* waitForLog(callSid)
        expect(log.end_reason).toBe("upstream_failure")
        expect(log.error_message).toContain("OpenAI Realtime")
        expect(log.status).toBe("failed")
        expect(fake.connections.length).toBe(before + 1) // exactly one reconnect
      }))

    it.effect("with the upstream gone for good, Twilio is told to apologise and hang up", () =>
      Effect.gen(function*() {
        const fake = yield* FakeOpenAI
        const twilio = yield* FakeTwilioServer
        const accountSid = "AC" + "ab".repeat(16)
        twilio.accounts.set(accountSid, "twilio-auth-token-123")
        const put = yield* request("PUT", "/api/v1/admin/tenants/acme", {
          headers: adminHeaders,
          json: {
            tenant_id: "acme",
            auth_token: "acme-token-0123456789",
            display_name: "Acme Plumbing",
            voice: "verse",
            twilio: { account_sid: accountSid, auth_token: "twilio-auth-token-123" }
          }
        })
        expect(put.status).toBe(200)
        fake.refuseNext = 2 // the first attempt and the one retry
        const n = ++calls
        const callSid = `CA${String(n).padStart(32, "0")}`
        const token = yield* (yield* StreamTokens).mint({
          tenantId: "acme",
          callSid,
          agentVersionId: null,
          direction: "inbound",
          from: "+15551230001",
          to: "+15551230002"
        })
        const url = yield* mediaStreamUrl()
        const client = yield* promise(() => TwilioMediaClient.open(url))
        client.connected()
        client.start({ streamSid: `MZ${String(n).padStart(32, "0")}`, callSid, customParameters: { stream_token: token } })
        const closed = yield* promise(() => client.closed)
        expect(closed.code).toBe(1000)
        const update = twilio.requests.find((r) => r.path.endsWith(`/Calls/${callSid}.json`))
        expect(update?.form.Twiml).toContain("<Say>")
        expect(update?.form.Twiml).toContain("<Hangup/>")
        const log = yield* waitForLog(callSid)
        expect(log.end_reason).toBe("upstream_failure")
        yield* setup // back to a tenant without Twilio credentials
      }))

    it.effect("a caller hang-up writes the call log exactly once", () =>
      Effect.gen(function*() {
        const fake = yield* FakeOpenAI
        fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(5)], transcript: "Hello!" })
        const { callSid, client, upstream } = yield* startCall
        yield* promise(() => client.waitFor("greeting", () => client.of("media").length >= 1))
        upstream.send({ type: "input_audio_buffer.speech_started", item_id: "u9" })
        upstream.send({ type: "input_audio_buffer.speech_stopped", item_id: "u9" })
        upstream.send({ type: "conversation.item.input_audio_transcription.completed", item_id: "u9", transcript: "Bye" })
        upstream.reply({ audio: [frame(6)], transcript: "Goodbye." })
        yield* promise(() => client.waitFor("reply", () => client.of("media").length >= 2))
        client.stop()
        client.close()
        yield* promise(() => client.closed)
        yield* promise(() => fake.waitFor("upstream closed", () => upstream.closed))
        const log = yield* waitForLog(callSid)
        expect(log.end_reason).toBe("stop")
        yield* Effect.sleep("200 millis")
        expect(yield* listed(callSid)).toHaveLength(1)
        expect(log.transcript.map((t: any) => t.content)).toEqual(["Hello!", "Bye", "Goodbye."])
        expect(log.turn_latency_stats).toMatchObject({ turns: 1 })
      }))
  }
)
