import type { Duplex } from "node:stream"
import type { RawData, WebSocket } from "ws"
import { readTwilioFrame, type TwilioFastFrame } from "./FastFrames.js"
import { decodeTwilioEvent, type TwilioStart } from "./TwilioEvents.js"
import { FrameWriter, headerLength, putTextHeader } from "./FrameWriter.js"
import { ReadBatch } from "./ReadBatch.js"

const MEDIA_SUFFIX = Buffer.from("\"}}")

/** Who receives the caller's side of the stream; swapped from bootstrap to bridge. */
export interface TwilioHandler {
  /** Caller audio: base64 mu-law at `bytes[start, end)` (a view into the frame). */
  media(bytes: Buffer, start: number, end: number): void
  mark(name: string): void
  start(event: TwilioStart): void
  dtmf(digit: string): void
  stop(): void
  closed(code: number): void
}

/**
 * The Twilio media WebSocket: frames in (fast path for media and marks, Schema for the
 * rest); media, mark and clear out as our own frames (`FrameWriter`), the audio copied
 * from the upstream delta's bytes with no string in between.
 */
export class TwilioSocket {
  handler: TwilioHandler
  private readonly frame: TwilioFastFrame = { kind: "media", start: 0, end: 0 }
  /** Batches what one read from Twilio relays upstream (see ReadBatch). */
  readonly reads: ReadBatch
  /** Our frames to Twilio (media, mark, clear); ws only reads, pongs and closes. */
  readonly writer: FrameWriter
  private mediaPrefix = Buffer.alloc(0)
  private markPrefix = ""
  private clearMessage = ""
  private open = true
  /** Largest message taken now: small until the call starts (`callStarted`), then ws's maxPayload. */
  private frameLimit = Infinity

  constructor(private readonly ws: WebSocket, readonly socket: Duplex, handler: TwilioHandler) {
    this.handler = handler
    this.reads = new ReadBatch(socket)
    this.writer = new FrameWriter(socket, false)
    ws.on("message", this.onMessage)
    ws.on("close", (code: number) => {
      this.open = false
      this.handler.closed(code)
    })
    // An error (a message past maxPayload, a bad frame) makes ws send a close frame (1009,
    // 1002...) and wait for the peer's; with our own reader on the socket it never sees that
    // answer, so the socket is cut shortly after instead of lingering for ws's 30 s timeout.
    ws.on("error", () => {
      setTimeout(() => ws.terminate(), 250).unref()
    })
  }

  /** Until the call starts, a message larger than `bytes` closes the socket with 1009. */
  limitFramesBeforeStart(bytes: number): void {
    this.frameLimit = bytes
  }

  callStarted(): void {
    this.frameLimit = Infinity
  }

  /** Outbound messages name the stream; built once, concatenated per frame. */
  setStreamSid(streamSid: string): void {
    const sid = JSON.stringify(streamSid)
    // Its own small allocation: `Buffer.from` of a short string is a slice of Node's shared 8 KB
    // pool, and a slice kept for the whole call keeps that whole pool alive (~4 KB per call).
    const prefix = `{"event":"media","streamSid":${sid},"media":{"payload":"`
    this.mediaPrefix = Buffer.allocUnsafeSlow(Buffer.byteLength(prefix))
    this.mediaPrefix.write(prefix)
    this.markPrefix = `{"event":"mark","streamSid":${sid},"mark":{"name":"`
    this.clearMessage = `{"event":"clear","streamSid":${sid}}`
  }

  /**
   * Relays base64 audio from `bytes[start, end)` with one copy and no string in between;
   * a mark that follows it goes in the same buffer (one write for both).
   */
  sendMedia(bytes: Buffer, start: number, end: number, mark?: string): void {
    if (!this.open) return
    const prefix = this.mediaPrefix
    const length = prefix.length + (end - start) + MEDIA_SUFFIX.length
    const markPayload = mark === undefined ? undefined : Buffer.from(this.markPrefix + mark + "\"}}", "latin1")
    const size = headerLength(length, false) + length +
      (markPayload === undefined ? 0 : headerLength(markPayload.length, false) + markPayload.length)
    const out = Buffer.allocUnsafe(size)
    let at = putTextHeader(out, 0, length, false)
    // TypedArray#set: the cheapest copy for a few hundred bytes (Buffer#copy validates more).
    out.set(prefix, at)
    out.set(bytes.subarray(start, end), at + prefix.length)
    at += length
    out.set(MEDIA_SUFFIX, at - MEDIA_SUFFIX.length)
    if (markPayload !== undefined) out.set(markPayload, putTextHeader(out, at, markPayload.length, false))
    this.writer.write(out)
  }

  /** Mark names are our own decimal counters, so they need no escaping. */
  sendMark(name: string): void {
    this.send(this.markPrefix + name + "\"}}")
  }

  sendClear(): void {
    this.send(this.clearMessage)
  }

  close(code: number, reason: string): void {
    if (!this.open) return
    this.open = false
    this.writer.flush()
    // A close reason is limited to 123 bytes on the wire.
    this.ws.close(code, Buffer.from(reason).subarray(0, 123).toString())
  }

  private send(message: string): void {
    if (this.open) this.writer.text(message)
  }

  private readonly onMessage = (data: RawData, isBinary: boolean): void => {
    if (isBinary || !Buffer.isBuffer(data)) return
    if (data.length > this.frameLimit) {
      // Closed after this read is handled (ws finishes its own processing of the frame first).
      this.frameLimit = -1
      setImmediate(() => this.close(1009, "message too large before the call started"))
      return
    }
    const frame = this.frame
    if (readTwilioFrame(data, frame)) {
      if (frame.kind === "media") this.handler.media(data, frame.start, frame.end)
      else this.handler.mark(data.toString("latin1", frame.start, frame.end))
      return
    }
    const event = decodeTwilioEvent(data)
    if (event === undefined) return
    switch (event.event) {
      case "media": {
        const audio = Buffer.from(event.media.payload, "latin1")
        return this.handler.media(audio, 0, audio.length)
      }
      case "mark":
        return this.handler.mark(event.mark.name)
      case "start":
        return this.handler.start(event)
      case "dtmf":
        return this.handler.dtmf(event.dtmf.digit)
      case "stop":
        return this.handler.stop()
      case "connected":
        return
    }
  }
}
