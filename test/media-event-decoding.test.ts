import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { decodeRealtimeEvent, RealtimeEvent } from "../src/Media/RealtimeEvents.js"
import { decodeTwilioEvent, TwilioEvent, TwilioStart } from "../src/Media/TwilioEvents.js"

/**
 * The control events are decoded by the member their tag names (src/Media/TaggedFrames.ts); the
 * oracle is the whole union's own `parseJson` decoder, which is what they went through before:
 * every frame must come out the same (the value, or skipped).
 */
const frame = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value))
const asUnion = <A, I>(union: Schema.Schema<A, I>) => {
  const decode = Schema.decodeEither(Schema.parseJson(union))
  return (raw: Buffer): A | undefined => Either.getOrUndefined(decode(raw.toString("utf8")))
}

const twilioFrames = [
  frame({ event: "connected", protocol: "Call", version: "1.0.0" }),
  frame({
    event: "start",
    sequenceNumber: "1",
    start: {
      streamSid: "MZ1",
      accountSid: "AC1",
      callSid: "CA1",
      tracks: ["inbound"],
      customParameters: { stream_token: "v1.a.b", tenant_id: "t1", caller: "+15550001" }
    },
    streamSid: "MZ1"
  }),
  frame({ event: "start", start: { streamSid: "MZ2" } }),
  frame({ event: "start", start: { accountSid: "AC1" } }), // no streamSid
  frame({ event: "start", start: { streamSid: "MZ3", customParameters: { n: 1 } } }), // a parameter that is not text
  frame({ event: "media", media: { payload: "AAAA", track: "inbound" } }),
  frame({ event: "media", media: {} }),
  frame({ event: "mark", mark: { name: "m1" } }),
  frame({ event: "dtmf", dtmf: { digit: "5", track: "inbound_track" } }),
  frame({ event: "stop", stop: { callSid: "CA1" } }),
  frame({ event: "something-new" }),
  frame({ event: 5 }),
  frame({ start: { streamSid: "MZ4" } }),
  frame("[\"start\"]"),
  frame("\"start\""),
  frame("null"),
  frame("not json"),
  frame("")
]

const realtimeFrames = [
  frame({ type: "session.created", session: { id: "s1", instructions: "be brief" } }),
  frame({ type: "session.updated", session: { id: "s1", tools: [] } }),
  frame({ type: "response.created", response: { id: "resp_1", status: "in_progress" } }),
  frame({ type: "response.done", response: { id: "resp_1", status: "completed", output: [] } }),
  frame({ type: "response.done", response: {} }), // no id
  frame({ type: "response.audio.delta", response_id: "r", item_id: "i", delta: "AAAA" }),
  frame({ type: "response.output_audio.done", item_id: "i" }),
  frame({ type: "response.output_audio_transcript.delta", delta: "Hel" }),
  frame({ type: "response.output_audio_transcript.done", item_id: "i", transcript: "Hello" }),
  frame({ type: "response.function_call_arguments.done", call_id: "c1", name: "lookup", arguments: "{}" }),
  frame({ type: "response.function_call_arguments.done", call_id: "c1", name: "lookup" }), // no arguments
  frame({ type: "input_audio_buffer.speech_started", item_id: "i2", audio_start_ms: 10 }),
  frame({ type: "conversation.item.input_audio_transcription.completed", item_id: "i2", transcript: "hi" }),
  frame({ type: "error", error: { message: "bad", code: null } }),
  frame({ type: "error", error: { code: "x" } }), // no message
  frame({ type: "rate_limits.updated", rate_limits: [] }),
  frame({ type: ["error"] }),
  frame("{\"type\":\"response.created\""), // truncated
  frame("42")
]

describe("control events decoded by their tag", () => {
  it("Twilio's come out as the whole union decodes them", () => {
    const union = asUnion(TwilioEvent)
    for (const raw of twilioFrames) expect(decodeTwilioEvent(raw), raw.toString()).toEqual(union(raw))
    expect(decodeTwilioEvent(twilioFrames[1]!)).toBeInstanceOf(TwilioStart)
    expect(decodeTwilioEvent(twilioFrames[1]!)).toMatchObject({ start: { customParameters: { stream_token: "v1.a.b" } } })
  })

  it("OpenAI's come out as the whole union decodes them", () => {
    const union = asUnion(RealtimeEvent)
    for (const raw of realtimeFrames) expect(decodeRealtimeEvent(raw), raw.toString()).toEqual(union(raw))
    expect(decodeRealtimeEvent(realtimeFrames[2]!)).toEqual({ type: "response.created", response: { id: "resp_1", status: "in_progress" } })
    expect(decodeRealtimeEvent(realtimeFrames[0]!)).toBeUndefined()
  })
})
