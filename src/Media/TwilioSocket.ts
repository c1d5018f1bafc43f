import type { Duplex } from "node:stream"
import type { RawData, WebSocket } from "ws"
import { readTwilioFrame, type TwilioFastFrame } from "./FastFrames.js"
import { decodeTwilioEvent, type TwilioStart } from "./TwilioEvents.js"
import { FrameWriter, headerLength, putTextHeader } from "./FrameWriter.js"
import { ReadBatch } from "./ReadBatch.js"

// An outbound media frame is these shared pieces with the stream SID written between them:
// a per-call prefix Buffer (with its own ArrayBuffer) and strings for mark and clear were ~0.4 KB
// per live call.
const MEDIA_HEAD = Buffer.from("{\"event\":\"media\",\"streamSid\":\"")
const MEDIA_MID = Buffer.from("\",\"media\":{\"payload\":\"")
const MEDIA_SUFFIX = Buffer.from("\"}}")

/** A stream SID as it goes between JSON quotes: the call's own string unless it needs escaping. */
const jsonInner = (value: string): string => {
  const quoted = JSON.stringify(value)
  return quoted.length === value.length + 2 ? value : quoted.slice(1, -1)
}

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

/** Where ws's listeners (shared by every socket, `this` is the ws) find the socket's TwilioSocket. */
const TWILIO = Symbol("TwilioSocket")
type Owned = WebSocket & { [TWILIO]?: TwilioSocket }

function onTwilioMessage(this: Owned, data: RawData, isBinary: boolean): void {
  this[TWILIO]!.received(data, isBinary)
}

function onTwilioClose(this: Owned, code: number): void {
  this[TWILIO]!.closedBy(code)
}

const terminate = (ws: WebSocket) => ws.terminate()

// An error (a message past maxPayload, a bad frame) makes ws send a close frame (1009,
// 1002...) and wait for the peer's; with our own reader on the socket it never sees that
// answer, so the socket is cut shortly after instead of lingering for ws's 30 s timeout.
function onTwilioError(this: WebSocket): void {
  setTimeout(terminate, 250, this).unref()
}

/** No limit but ws's maxPayload: 0, not Infinity, which made the field a double boxed per socket. */
const NO_FRAME_LIMIT = 0

/**
 * The frame the fast path reads into: one for every socket (it is read right after it is
 * filled, before anything else can fill it again).
 */
const frame: TwilioFastFrame = { kind: "media", start: 0, end: 0 }

/**
 * The Twilio media WebSocket: frames in (fast path for media and marks, Schema for the
 * rest); media, mark and clear out as our own frames (`FrameWriter`), the audio copied
 * from the upstream delta's bytes with no string in between.
 */
export class TwilioSocket {
  handler: TwilioHandler
  /** Batches what one read from Twilio relays upstream (see ReadBatch). */
  readonly reads: ReadBatch
  /** Our frames to Twilio (media, mark, clear); ws only reads, pongs and closes. */
  readonly writer: FrameWriter
  /** The stream SID, JSON-escaped (no quotes), and its length in UTF-8. */
  private sid = ""
  private sidBytes = 0
  private open = true
  /** Largest message taken now: small until the call starts (`callStarted`), then ws's maxPayload. */
  private frameLimit = NO_FRAME_LIMIT

  constructor(private readonly ws: WebSocket, readonly socket: Duplex, handler: TwilioHandler) {
    this.handler = handler
    this.reads = new ReadBatch(socket)
    this.writer = new FrameWriter(socket, false)
    // Functions shared by every socket: a closure (and its context) per socket and listener
    // was kept for the call's length.
    ;(ws as Owned)[TWILIO] = this
    ws.on("message", onTwilioMessage)
    ws.on("close", onTwilioClose)
    ws.on("error", onTwilioError)
  }

  /** The socket closed (ws's 'close'). */
  closedBy(code: number): void {
    this.open = false
    this.handler.closed(code)
  }

  /** Until the call starts, a message larger than `bytes` closes the socket with 1009. */
  limitFramesBeforeStart(bytes: number): void {
    this.frameLimit = bytes
  }

  callStarted(): void {
    this.frameLimit = NO_FRAME_LIMIT
  }

  /** Outbound messages name the stream: its SID is written into each of them. */
  setStreamSid(streamSid: string): void {
    this.sid = jsonInner(streamSid)
    this.sidBytes = Buffer.byteLength(this.sid)
  }

  /**
   * Relays base64 audio from `bytes[start, end)` with one copy and no string in between;
   * a mark that follows it goes in the same buffer (one write for both).
   */
  sendMedia(bytes: Buffer, start: number, end: number, mark?: string): void {
    if (!this.open) return
    const sidAt = MEDIA_HEAD.length
    const payloadAt = sidAt + this.sidBytes + MEDIA_MID.length
    const length = payloadAt + (end - start) + MEDIA_SUFFIX.length
    const markPayload = mark === undefined ? undefined : Buffer.from(this.markMessage(mark))
    const size = headerLength(length, false) + length +
      (markPayload === undefined ? 0 : headerLength(markPayload.length, false) + markPayload.length)
    const out = Buffer.allocUnsafe(size)
    const at = putTextHeader(out, 0, length, false)
    // TypedArray#set: the cheapest copy for a few hundred bytes (Buffer#copy validates more).
    out.set(MEDIA_HEAD, at)
    out.write(this.sid, at + sidAt)
    out.set(MEDIA_MID, at + sidAt + this.sidBytes)
    out.set(bytes.subarray(start, end), at + payloadAt)
    out.set(MEDIA_SUFFIX, at + length - MEDIA_SUFFIX.length)
    if (markPayload !== undefined) out.set(markPayload, putTextHeader(out, at + length, markPayload.length, false))
    this.writer.write(out)
  }

  /** Mark names are our own decimal counters, so they need no escaping. */
  sendMark(name: string): void {
    this.send(this.markMessage(name))
  }

  sendClear(): void {
    this.send(`{"event":"clear","streamSid":"${this.sid}"}`)
  }

  close(code: number, reason: string): void {
    if (!this.open) return
    this.open = false
    this.writer.flush()
    // A close reason is limited to 123 bytes on the wire.
    this.ws.close(code, Buffer.from(reason).subarray(0, 123).toString())
  }

  private markMessage(name: string): string {
    return `{"event":"mark","streamSid":"${this.sid}","mark":{"name":"${name}"}}`
  }

  private send(message: string): void {
    if (this.open) this.writer.text(message)
  }

  /** A message from Twilio (ws's 'message'). */
  received(data: RawData, isBinary: boolean): void {
    if (isBinary || !Buffer.isBuffer(data)) return
    if (this.frameLimit !== NO_FRAME_LIMIT && data.length > this.frameLimit) {
      // Closed after this read is handled (ws finishes its own processing of the frame first).
      this.frameLimit = -1
      setImmediate(() => this.close(1009, "message too large before the call started"))
      return
    }
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
