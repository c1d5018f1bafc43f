import { describe, expect, it } from "@effect/vitest"
import { type Duplex, Writable } from "node:stream"
import * as ws from "ws"
import { CallRecorder, TRANSCRIPT_MAX_CHARS } from "../src/Media/CallRecorder.js"
import { FrameWriter, seal, textFrame } from "../src/Media/FrameWriter.js"
import { type AudioDelta, base64ByteLength, readAudioDelta, readTwilioFrame, type TwilioFastFrame } from "../src/Media/FastFrames.js"
import { MARK_INTERVAL_BYTES, Playback } from "../src/Media/Playback.js"
import { decodeRealtimeEvent } from "../src/Media/RealtimeEvents.js"
import { decodeTwilioEvent } from "../src/Media/TwilioEvents.js"

const frame = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value))
const twilioOut = (): TwilioFastFrame => ({ kind: "media", start: 0, end: 0 })

/** What a fast read located, as text. */
const found = (raw: Buffer, out: { start: number; end: number }) => raw.toString("latin1", out.start, out.end)
const delta = (out: AudioDelta) => ({ responseId: out.responseId, itemId: out.itemId, delta: found(out.bytes, out) })

const audio = Buffer.from(Array.from({ length: 160 }, (_, i) => (i * 37) & 0xff)).toString("base64")

describe("readTwilioFrame (the Twilio fast path)", () => {
  it("takes the payload of a media frame exactly as Twilio sends it", () => {
    const out = twilioOut()
    const raw = frame({
      event: "media",
      sequenceNumber: "3",
      media: { track: "inbound", chunk: "1", timestamp: "5", payload: audio },
      streamSid: "MZ123"
    })
    expect(readTwilioFrame(raw, out)).toBe(true)
    expect([out.kind, found(raw, out)]).toEqual(["media", audio])
  })

  it("takes the name of a mark echo", () => {
    const out = twilioOut()
    const raw = frame({ event: "mark", sequenceNumber: "4", streamSid: "MZ1", mark: { name: "17" } })
    expect(readTwilioFrame(raw, out)).toBe(true)
    expect([out.kind, found(raw, out)]).toEqual(["mark", "17"])
  })

  it("declines anything else, so the schema decides", () => {
    const out = twilioOut()
    for (
      const raw of [
        frame({ event: "start", start: { streamSid: "MZ1" } }),
        frame({ streamSid: "MZ1", event: "media", media: { payload: audio } }), // another key order
        frame("{ \"event\": \"media\", \"media\": { \"payload\": \"AAAA\" } }"), // whitespace
        frame("{\"event\":\"media\",\"media\":{\"payload\":\"AA\\u0041A\"}}"), // escaped
        frame("{\"event\":\"media\",\"media\":{\"track\":\"inbound\"}}"), // no payload
        frame("{\"event\":\"media\",\"media\":{\"payload\":\"AAAA"), // truncated
        frame("{\"event\":\"mark\",\"mark\":{}}"),
        frame("")
      ]
    ) expect(readTwilioFrame(raw, out), raw.toString()).toBe(false)
  })

  it("the slow path still reads what the fast path declined", () => {
    expect(decodeTwilioEvent(frame({ streamSid: "MZ1", event: "media", media: { payload: audio } }))).toMatchObject({
      event: "media",
      media: { payload: audio }
    })
    expect(decodeTwilioEvent(frame("{\"event\":\"media\",\"media\":{\"payload\":\"AA\\u0041A\"}}"))).toMatchObject({
      media: { payload: "AAAA" }
    })
    expect(decodeTwilioEvent(frame({ event: "dtmf", dtmf: { track: "inbound_track", digit: "5" } }))).toMatchObject({
      dtmf: { digit: "5" }
    })
    expect(decodeTwilioEvent(frame({ event: "something-new" }))).toBeUndefined()
    expect(decodeTwilioEvent(frame("not json"))).toBeUndefined()
  })
})

describe("readAudioDelta (the OpenAI fast path)", () => {
  it("reads GA and beta audio deltas whatever the order of the other fields", () => {
    const ga = frame({
      type: "response.output_audio.delta",
      event_id: "event_1",
      response_id: "resp_1",
      item_id: "item_1",
      output_index: 0,
      content_index: 0,
      delta: audio
    })
    const read = readAudioDelta(ga)!
    expect(delta(read)).toEqual({ responseId: "resp_1", itemId: "item_1", delta: audio })
    expect(read.bytes).toBe(ga) // a range of the frame itself: the audio is never copied into a string
    const beta = frame({ type: "response.audio.delta", delta: "AAAA", item_id: "item_2", response_id: "resp_2" })
    expect(delta(readAudioDelta(beta)!)).toEqual({ responseId: "resp_2", itemId: "item_2", delta: "AAAA" })
  })

  it("declines other events and unusual encodings", () => {
    for (
      const raw of [
        frame({ type: "response.output_audio_transcript.delta", delta: "hi", item_id: "i", response_id: "r" }),
        frame({ delta: audio, type: "response.output_audio.delta", item_id: "i", response_id: "r" }),
        frame({ type: "response.output_audio.delta", item_id: "i", delta: audio }),
        frame("{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\\\"\",\"item_id\":\"i\",\"delta\":\"AAAA\"}")
      ]
    ) expect(readAudioDelta(raw), raw.toString()).toBeUndefined()
  })

  it("the slow path reads a delta the fast path declined", () => {
    expect(decodeRealtimeEvent(frame({ delta: audio, type: "response.output_audio.delta", item_id: "i", response_id: "r" })))
      .toMatchObject({ type: "response.output_audio.delta", delta: audio })
    expect(decodeRealtimeEvent(frame({ type: "rate_limits.updated" }))).toBeUndefined()
  })
})

describe("base64ByteLength", () => {
  it("matches the decoded size for every padding", () => {
    for (let n = 0; n < 20; n++) {
      const encoded = Buffer.from(` ${Buffer.alloc(n, 7).toString("base64")} `)
      expect(base64ByteLength(encoded, 1, encoded.length - 1)).toBe(n)
      const unpadded = Buffer.from(Buffer.alloc(n, 7).toString("base64").replace(/=+$/, ""))
      expect(base64ByteLength(unpadded, 0, unpadded.length)).toBe(n)
    }
  })
})

describe("Playback", () => {
  const FRAME = 160
  const PER_MARK = MARK_INTERVAL_BYTES / FRAME

  it("marks every 200 ms of audio and at the end of an item", () => {
    expect(MARK_INTERVAL_BYTES).toBe(1600) // 200 ms of mu-law
    const playback = new Playback()
    const marks: Array<string | undefined> = []
    for (let i = 0; i < 2 * PER_MARK + 3; i++) marks.push(playback.sent("item_1", FRAME))
    expect(marks.filter((m) => m !== undefined)).toEqual(["1", "2"])
    expect([marks[PER_MARK - 1], marks[2 * PER_MARK - 1]]).toEqual(["1", "2"])
    expect(playback.flush()).toBe("3")
    expect(playback.flush()).toBeUndefined()
  })

  it("truncates the playing item at what the acknowledged marks say was heard", () => {
    const playback = new Playback()
    const names: Array<string> = []
    for (let i = 0; i < 5 * PER_MARK; i++) {
      const mark = playback.sent("item_1", FRAME)
      if (mark !== undefined) names.push(mark)
    }
    expect(names).toEqual(["1", "2", "3", "4", "5"])
    playback.acknowledged("2") // 2 x 1600 bytes = 400 ms played
    expect(playback.speaking).toBe(true)
    expect(playback.interrupt()).toEqual({ clear: true, truncations: [{ itemId: "item_1", audioEndMs: 400 }] })
    // Twilio echoes the cleared marks; they must not count as played.
    playback.acknowledged("5")
    expect(playback.speaking).toBe(false)
    expect(playback.interrupt()).toEqual({ clear: false, truncations: [] })
  })

  it("after a long run of acknowledged marks is dropped, later echoes still say what was played", () => {
    const playback = new Playback()
    // Two items, 40 marks: acknowledging mark 30 drops the first 30 from the list (past 16, half of it).
    for (let i = 0; i < 20 * PER_MARK; i++) playback.sent("item_1", FRAME)
    for (let i = 0; i < 20 * PER_MARK; i++) playback.sent("item_2", FRAME)
    playback.acknowledged("30")
    playback.acknowledged("33") // item_2's 13th mark: 13 x 200 ms played
    expect(playback.interrupt()).toEqual({ clear: true, truncations: [{ itemId: "item_2", audioEndMs: 2_600 }] })
    // A session replaced after more marks: their items are never truncated, later ones are.
    for (let i = 0; i < 20 * PER_MARK; i++) playback.sent("item_3", FRAME)
    playback.acknowledged("50")
    expect(playback.detachItems()).toBeUndefined()
    for (let i = 0; i < 2 * PER_MARK; i++) playback.sent("item_4", FRAME)
    playback.acknowledged("61")
    expect(playback.interrupt().truncations).toEqual([{ itemId: "item_4", audioEndMs: 200 }])
  })

  it("truncates at what was played, not at what was sent", () => {
    const playback = new Playback()
    playback.sent("a", 100)
    const last = playback.flush()!
    playback.acknowledged(last)
    playback.sent("a", 60) // unmarked tail still queued
    expect(playback.interrupt().truncations).toEqual([{ itemId: "a", audioEndMs: 12 }]) // 100 bytes played
  })

  it("an unacknowledged item truncates at zero; a later queued item too", () => {
    const playback = new Playback()
    playback.sent("a", MARK_INTERVAL_BYTES)
    playback.acknowledged("1") // all of "a" played
    for (let i = 0; i < PER_MARK + 2; i++) playback.sent("b", FRAME)
    for (let i = 0; i < 2; i++) playback.sent("c", FRAME)
    expect(playback.interrupt().truncations).toEqual([{ itemId: "b", audioEndMs: 0 }, { itemId: "c", audioEndMs: 0 }])
  })

  it("knows when everything sent has been played", () => {
    const playback = new Playback()
    for (let i = 0; i < 6; i++) playback.sent("a", FRAME)
    const last = playback.flush()!
    expect(playback.speaking).toBe(true)
    playback.acknowledged(last)
    expect(playback.speaking).toBe(false)
  })

  it("never truncates items of a replaced upstream session, but still clears them", () => {
    const playback = new Playback()
    for (let i = 0; i < 3; i++) playback.sent("old", FRAME)
    expect(playback.detachItems()).toBe("1")
    expect(playback.interrupt()).toEqual({ clear: true, truncations: [] })
  })

  it("ignores mark names it did not issue", () => {
    const playback = new Playback()
    playback.sent("a", 700)
    playback.acknowledged("not-a-number")
    playback.acknowledged("")
    expect(playback.speaking).toBe(true)
  })
})

describe("CallRecorder", () => {
  it("measures first token and first audio from the end of the caller's speech", () => {
    const recorder = new CallRecorder()
    recorder.callerStartedSpeaking("u1", 1_000)
    recorder.callerStoppedSpeaking(2_000)
    recorder.modelOutput(2_300)
    recorder.modelOutput(2_400)
    recorder.assistantAudio("a1", 2_500)
    recorder.assistantAudio("a1", 2_600)
    expect(recorder.turnLatencies).toEqual([{ llmFirstTokenMs: 300, firstAudioMs: 500 }])
    // VAD that fired for nothing leaves no turn.
    recorder.callerStoppedSpeaking(3_000)
    recorder.callerStoppedSpeaking(3_500)
    recorder.closeTurn()
    expect(recorder.turnLatencies).toHaveLength(1)
  })

  it("orders the transcript by when things were said", () => {
    const recorder = new CallRecorder()
    recorder.callerStartedSpeaking("u1", 1_000)
    recorder.assistantAudio("a1", 2_000)
    recorder.assistantSaid("a1", "Hello there", 2_500)
    recorder.userSaid("u1", "Hi", 3_000) // transcription finishes after the reply started
    recorder.userSaid(undefined, "   ", 3_100)
    expect(recorder.transcript.map((t) => [t.role, t.content, t.timestamp.getTime()])).toEqual([
      ["user", "Hi", 1_000],
      ["assistant", "Hello there", 2_000]
    ])
  })

  it("keeps the first TRANSCRIPT_MAX_CHARS of the conversation, counts the rest and still streams it", () => {
    const recorder = new CallRecorder()
    const streamed: Array<string> = []
    recorder.onEntry = { said: (entry) => streamed.push(entry.content) }
    const line = "y".repeat(TRANSCRIPT_MAX_CHARS / 2 - 10)
    recorder.userSaid(undefined, line, 1)
    recorder.spoken("a1", line, 2) // the voice's line, which a barge-in can shorten
    recorder.userSaid(undefined, "this line is cut after twenty chars", 3)
    recorder.userSaid(undefined, "and this one is not kept", 4)
    expect(recorder.transcript.map((t) => t.content)).toEqual([line, line, "this line is cut aft"])
    expect(recorder.omittedChars).toBe("er twenty chars".length + "and this one is not kept".length)
    expect(streamed).toHaveLength(3)
    // A barge-in shortening a kept line gives its characters back.
    recorder.spoken("a1", "yy", 5)
    recorder.userSaid(undefined, "fits now", 6)
    expect(recorder.transcript.map((t) => t.content)).toEqual([line, "yy", "this line is cut aft", "fits now"])
  })
})

/** ws's frame parser (exported at runtime, not in @types/ws). */
const Receiver = (ws as unknown as {
  Receiver: new(options: object) => NodeJS.EventEmitter & { write(chunk: Buffer): void }
}).Receiver

describe("FrameWriter (our frames, read back by ws)", () => {
  /** Every text message a ws Receiver (server side expects masked frames) reads from `bytes`. */
  const readBack = (bytes: Buffer, isServer: boolean) => {
    const receiver = new Receiver({ isServer, skipUTF8Validation: false })
    const messages: Array<string> = []
    let error: Error | undefined
    receiver.on("message", (data: Buffer, isBinary: boolean) => messages.push(`${isBinary ? "binary:" : ""}${data.toString()}`))
    receiver.on("error", (e: Error) => (error = e))
    receiver.write(bytes)
    expect(error).toBeUndefined()
    return messages
  }

  const sink = () => {
    const chunks: Array<Buffer> = []
    let writes = 0
    const socket = new Writable({
      writev(entries, done) {
        writes++
        for (const entry of entries) chunks.push(entry.chunk as Buffer)
        done()
      },
      write(chunk, _encoding, done) {
        writes++
        chunks.push(chunk as Buffer)
        done()
      }
    })
    return { socket, bytes: () => Buffer.concat(chunks), writes: () => writes }
  }

  for (const masked of [false, true]) {
    it(`frames every payload length ${masked ? "masked (client)" : "unmasked (server)"}`, () => {
      const { bytes, socket } = sink()
      const writer = new FrameWriter(socket as unknown as Duplex, masked)
      const lengths = [0, 1, 3, 5, 125, 126, 127, 300, 65535, 65536, 70001]
      const sent = lengths.map((n) => "x".repeat(Math.max(0, n - 2)).padStart(n, "é").slice(0, n))
      for (const text of sent) writer.text(text)
      expect(readBack(bytes(), masked)).toEqual(sent)
    })
  }

  it("textFrame + seal frame a payload written in place", () => {
    const payload = Buffer.from("{\"type\":\"input_audio_buffer.append\",\"audio\":\"AAAA\"}")
    const frame = textFrame(payload.length, true)
    frame.set(payload, frame.length - payload.length)
    expect(readBack(seal(frame, payload.length), true)).toEqual([payload.toString()])
  })

  it("holds frames during a read and writes them in one go", () => {
    const { bytes, socket, writes } = sink()
    const writer = new FrameWriter(socket as unknown as Duplex, false)
    writer.hold()
    writer.text("one")
    expect(writes()).toBe(1) // the first frame of a read goes out at once
    writer.release()
    expect(writes()).toBe(1)
    writer.hold()
    writer.text("two")
    writer.text("three")
    writer.text("four")
    expect(writes()).toBe(2) // the rest of the burst is corked...
    writer.release()
    expect(writes()).toBe(3) // ...and goes out in one writev
    writer.text("five") // not holding: written at once
    expect(writes()).toBe(4)
    expect(readBack(bytes(), false)).toEqual(["one", "two", "three", "four", "five"])
  })

  it("a batch (a session's opening) goes out as one write, in order", () => {
    const { bytes, socket, writes } = sink()
    const writer = new FrameWriter(socket as unknown as Duplex, true)
    writer.batch()
    writer.text("{\"type\":\"session.update\"}")
    writer.text("{\"type\":\"response.create\"}")
    writer.text("{\"type\":\"input_audio_buffer.append\",\"audio\":\"fw==\"}")
    expect(writes()).toBe(0) // held until flush...
    writer.flush()
    expect(writes()).toBe(1) // ...then one writev for all three
    writer.text("after")
    expect(writes()).toBe(2) // no longer batching
    expect(readBack(bytes(), true)).toEqual([
      "{\"type\":\"session.update\"}",
      "{\"type\":\"response.create\"}",
      "{\"type\":\"input_audio_buffer.append\",\"audio\":\"fw==\"}",
      "after"
    ])
  })
})
