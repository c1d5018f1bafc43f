import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { Say } from "../src/LiveCalls/Domain.js"
import { LiveCalls } from "../src/LiveCalls/LiveCalls.js"
import { FakeOpenAI, pauseAcceptsScoped } from "./support/FakeOpenAIRealtime.js"
import { FakeTwilioServer } from "./support/FakeTwilioServer.js"
import {
  ACME_REST,
  dial,
  frame,
  listed,
  MediaSuite,
  newCall,
  promise,
  startCall,
  waitForLog,
  waitUntilGone
} from "./support/MediaCalls.js"

layer(MediaSuite(), { excludeTestServices: true })(
  "media stream",
  (it) => {
    it.scoped("configures the session, greets first and relays audio byte-exact both ways, early audio included", () =>
      Effect.gen(function*() {
        const fake = yield* FakeOpenAI
        const reply = Array.from({ length: 12 }, (_, i) => frame(i, 100))
        fake.onResponseCreate = (connection) => connection.reply({ audio: reply, transcript: "Hi, this is Acme." })
        const call = yield* newCall()
        // The upstream is slow: the first caller audio arrives (and is read) before it is open.
        yield* pauseAcceptsScoped(fake)
        const attempts = fake.attempts
        const before = fake.connections.length
        const client = yield* dial(call)
        const sent: Array<Buffer> = []
        for (let i = 0; i < 10; i++) {
          sent.push(frame(i))
          client.media(frame(i))
        }
        yield* promise(() => fake.waitFor("the upstream connection attempt", () => fake.attempts > attempts))
        yield* promise(() => client.roundTrip())
        fake.resumeAccepts()
        const upstream = yield* promise(() => fake.connection(before))
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
        expect(client.of("media")[0].streamSid).toBe(call.streamSid)
        expect(client.of("mark").length).toBeGreaterThan(0)

        client.stop()
        const closed = yield* promise(() => client.closed)
        expect(closed.code).toBe(1000)
        const log = yield* waitForLog(call.callSid)
        expect(log).toMatchObject({
          end_reason: "stop",
          stream_sid: call.streamSid,
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
        const { client, upstream } = yield* startCall()
        yield* promise(() => client.waitFor("reply audio", () => client.of("media").length >= 30))
        const marks = client.of("mark").map((m) => m.mark.name)
        expect(marks).toHaveLength(3)
        client.mark(marks[0]) // the first mark: 1600 bytes = 200 ms played
        yield* promise(() => client.roundTrip())
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
        const { callSid, client, streamSid, upstream } = yield* startCall()
        yield* promise(() => client.waitFor("greeting", () => client.of("media").length >= 2))
        client.playAll()
        upstream.callTool("check_business_hours", { timezone: "America/New_York" }, "call_hours")
        const output = yield* promise(() =>
          fake.waitFor("function output", () =>
            upstream.eventsOf("conversation.item.create").find((e) => e.item.type === "function_call_output"))
        )
        expect(output.item.call_id).toBe("call_hours")
        // acme has no business hours: the tool says so, in the caller's time zone, and does not turn them away.
        expect(JSON.parse(output.item.output)).toMatchObject({ configured: false, open: true, timezone: "America/New_York" })
        yield* promise(() =>
          fake.waitFor("a reply to the tool output", () =>
            upstream.received.slice(upstream.received.indexOf(output) + 1).some((e) => e.type === "response.create"))
        )
        yield* promise(() => client.waitFor("the reply", () => client.of("media").length >= 4))

        // The goodbye: its audio arrives, then its response.done.
        let goodbye: { responseId: string } | undefined
        fake.onResponseCreate = (connection) => {
          goodbye = connection.reply({ audio: [frame(3), frame(4)], hold: true })
        }
        upstream.callTool("end_call", { reason: "caller said goodbye" }, "call_bye")
        yield* promise(() => client.waitFor("the goodbye", () => client.of("media").length >= 6 && goodbye))
        const marks = client.of("mark").length
        upstream.send({ type: "response.done", response: { id: goodbye!.responseId, status: "completed" } })
        // The service marks the end of the goodbye when its response is done...
        yield* promise(() => client.waitFor("the goodbye's mark", () => client.of("mark").length > marks))
        // ...and keeps the call until Twilio reports it played: the call is still there, ending.
        const probe = yield* (yield* LiveCalls).command(streamSid, new Say({ text: "One more thing." }))
        expect(probe).toEqual({ _tag: "Refused", reason: "the call is being ended or transferred" })
        expect(client.isClosed).toBe(false)
        client.playAll() // Twilio reports the goodbye as played
        const closed = yield* promise(() => client.closed)
        expect(closed.code).toBe(1000)
        const log = yield* waitForLog(callSid)
        expect(log.end_reason).toBe("end_call_tool")
        expect(log.function_calls.map((f: any) => f.name)).toEqual(["check_business_hours", "end_call"])
        expect(log.function_calls[1].arguments).toEqual({ reason: "caller said goodbye" })
        expect(log.function_calls[0].duration_ms).toBeGreaterThanOrEqual(0)
      }))

    it.effect("accepts the beta event names too", () =>
      Effect.gen(function*() {
        const fake = yield* FakeOpenAI
        fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(8), frame(9)], transcript: "Beta hello.", beta: true })
        const { callSid, client } = yield* startCall()
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
        const { client, upstream } = yield* startCall()
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

    it.scoped("reconnects once with the conversation so far, then ends cleanly when the upstream fails again", () =>
      Effect.gen(function*() {
        const fake = yield* FakeOpenAI
        fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(4)], transcript: "Welcome to Acme." })
        const { callSid, client, upstream } = yield* startCall()
        yield* promise(() => client.waitFor("greeting", () => client.of("media").length >= 1))
        client.playAll()
        upstream.send({ type: "conversation.item.input_audio_transcription.completed", item_id: "u1", content_index: 0, transcript: "Is the shop open?" })
        yield* promise(() => upstream.roundTrip())
        const before = fake.connections.length
        const attempts = fake.attempts
        yield* pauseAcceptsScoped(fake)
        upstream.drop()
        // Caller audio during the outage (once the service is reconnecting) goes to the new session.
        yield* promise(() => fake.waitFor("the reconnect attempt", () => fake.attempts > attempts))
        client.media(frame(42))
        yield* promise(() => client.roundTrip())
        fake.resumeAccepts()
        const second = yield* promise(() => fake.connection(before))
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
        fake.refuseNext = 2 // the first attempt and the one retry
        const call = yield* newCall(ACME_REST.tenantId)
        const client = yield* dial(call)
        const closed = yield* promise(() => client.closed)
        expect(closed.code).toBe(1000)
        expect(fake.refuseNext).toBe(0)
        const update = twilio.requests.find((r) => r.path.endsWith(`/Calls/${call.callSid}.json`))
        expect(update?.form.Twiml).toContain("<Say>")
        expect(update?.form.Twiml).toContain("<Hangup/>")
        const log = yield* waitForLog(call.callSid, ACME_REST)
        expect(log.end_reason).toBe("upstream_failure")
      }))

    it.effect("a caller hang-up writes the call log exactly once", () =>
      Effect.gen(function*() {
        const fake = yield* FakeOpenAI
        fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(5)], transcript: "Hello!" })
        const { callSid, client, streamSid, upstream } = yield* startCall()
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
        // Once the call has left the live calls its scope is closed: nothing can write again.
        yield* waitUntilGone(streamSid)
        expect(yield* listed(callSid)).toHaveLength(1)
        expect(log.transcript.map((t: any) => t.content)).toEqual(["Hello!", "Bye", "Goodbye."])
        expect(log.turn_latency_stats).toMatchObject({ turns: 1 })
      }))
  }
)
