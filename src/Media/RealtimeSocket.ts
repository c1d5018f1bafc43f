import { Effect, Schema } from "effect"
import type { IncomingMessage } from "node:http"
import type { Duplex } from "node:stream"
import { type RawData, WebSocket } from "ws"
import { type AudioDelta, readAudioDelta } from "./FastFrames.js"
import { APPEND_PREFIX, APPEND_SUFFIX, decodeRealtimeEvent, type RealtimeEvent } from "./RealtimeEvents.js"
import { FrameWriter, seal, textFrame } from "./FrameWriter.js"
import { ReadBatch } from "./ReadBatch.js"
import { SharedStrings } from "./SharedStrings.js"

export class UpstreamUnavailable extends Schema.TaggedError<UpstreamUnavailable>()("UpstreamUnavailable", {
  message: Schema.String
}) {}

/** Who receives the model's side of the call. */
export interface RealtimeHandler {
  audio(delta: AudioDelta): void
  event(event: RealtimeEvent): void
  /** The socket closed without us asking. */
  lost(reason: string): void
}

/**
 * One OpenAI Realtime WebSocket. Frames that arrive before a handler is attached are
 * held, so nothing the server says between "open" and the bridge taking over is lost.
 */
export class RealtimeSocket {
  private handler: RealtimeHandler | undefined = undefined
  private readonly early: Array<Buffer> = []
  private lostReason: string | undefined = undefined
  /** Batches what one read from OpenAI relays to the caller (see ReadBatch). */
  readonly reads: ReadBatch
  /** Our (masked) frames to OpenAI; ws only reads, pongs and closes. */
  readonly writer: FrameWriter
  private closing = false

  constructor(private readonly ws: WebSocket, readonly socket: Duplex) {
    this.reads = new ReadBatch(socket)
    this.writer = new FrameWriter(socket, true)
    ws.on("message", this.onMessage)
    ws.on("error", () => {})
    ws.on("close", (code: number, reason: Buffer) => {
      if (this.closing) return
      this.closing = true
      const why = `OpenAI Realtime socket closed (${code}${reason.length > 0 ? ` ${reason.toString()}` : ""})`
      if (this.handler === undefined) this.lostReason = why
      else this.handler.lost(why)
    })
  }

  attach(handler: RealtimeHandler): void {
    this.handler = handler
    for (const frame of this.early.splice(0)) this.dispatch(frame, handler)
    if (this.lostReason !== undefined) handler.lost(this.lostReason)
  }

  /** A client event (a JSON string, or one already encoded). */
  send(message: string | Buffer): void {
    if (!this.closing) this.writer.text(message)
  }

  /** `input_audio_buffer.append` of the base64 at `bytes[start, end)`: one buffer, no string. */
  sendAudio(bytes: Buffer, start: number, end: number): void {
    if (this.closing) return
    const length = APPEND_PREFIX.length + (end - start) + APPEND_SUFFIX.length
    const frame = textFrame(length, true)
    const at = frame.length - length
    frame.set(APPEND_PREFIX, at)
    frame.set(bytes.subarray(start, end), at + APPEND_PREFIX.length)
    frame.set(APPEND_SUFFIX, frame.length - APPEND_SUFFIX.length)
    this.writer.write(seal(frame, length))
  }

  /** Closes on purpose: no `lost` notification. */
  close(): void {
    if (this.closing) return
    this.closing = true
    this.writer.flush()
    this.ws.close(1000, "call ended")
    // A peer that never answers the close handshake must not keep the socket alive.
    setTimeout(() => this.ws.terminate(), 2_000).unref()
  }

  private readonly onMessage = (data: RawData, isBinary: boolean): void => {
    if (isBinary || !Buffer.isBuffer(data)) return
    if (this.handler === undefined) this.early.push(data)
    else this.dispatch(data, this.handler)
  }

  private dispatch(frame: Buffer, handler: RealtimeHandler): void {
    const delta = readAudioDelta(frame)
    if (delta !== undefined) return handler.audio(delta)
    const event = decodeRealtimeEvent(frame)
    if (event === undefined) return
    if (event.type === "response.output_audio.delta" || event.type === "response.audio.delta") {
      const bytes = Buffer.from(event.delta, "latin1")
      return handler.audio({ responseId: event.response_id, itemId: event.item_id, bytes, start: 0, end: bytes.length })
    }
    handler.event(event)
  }
}

/** Models are a short list in practice; the bound keeps odd configurations from growing it. */
const urls = new SharedStrings(64)

/** `https://api.openai.com/v1` -> `wss://api.openai.com/v1/realtime?model=<model>`, one string per pair. */
export const realtimeUrl = (baseUrl: string, model: string): string =>
  urls.of(`${baseUrl} ${model}`, () => `${baseUrl.replace(/^http/, "ws")}/realtime?model=${encodeURIComponent(model)}`)

/** How an opening ends: the open socket, or why there is none. */
export type RealtimeOpened = (result: RealtimeSocket | UpstreamUnavailable) => void

/**
 * Opens the upstream socket (GA protocol: no beta header), failing after `timeoutMs`, as plain
 * code: `done` is called once, unless the returned cancel (which terminates the socket) comes
 * first. A call opens its upstream with this when tracing is off (no fiber, span or context
 * copy per call: LiveCall.openUpstream); `openRealtime` is the same as an effect.
 */
export const connectRealtime = (url: string, apiKey: string, timeoutMs: number, done: RealtimeOpened): () => void => {
  const ws = new WebSocket(url, {
    headers: { Authorization: `Bearer ${apiKey}` },
    perMessageDeflate: false,
    skipUTF8Validation: true
  })
  let socket: Duplex | undefined
  // The listeners below stay on the socket for the whole call: they reach the waiting caller
  // only through this, dropped once settled, so whatever opened the socket (a finished fiber,
  // a call's plan) is not kept alive by them for the call's length.
  let settle: RealtimeOpened | undefined = done
  // Our own deadline, not ws's `handshakeTimeout`: that is the request's socket timeout, whose
  // spent Timeout (with its callback) the socket keeps for the call's length (~0.2 KB per call).
  let deadline: ReturnType<typeof setTimeout> | undefined = undefined
  // `on` with a flag, never `once`: removing a listener `delete`s it from the emitter's
  // table, which then stays in slow dictionary mode for every later 'message' emit.
  ws.on("upgrade", (response: IncomingMessage) => {
    socket ??= response.socket
  })
  // Stays registered: `terminate()` while connecting emits an error of its own.
  const failed = (error: Error) => {
    const waiting = settle
    if (waiting === undefined) return
    settle = undefined
    clearTimeout(deadline)
    ws.terminate()
    waiting(new UpstreamUnavailable({ message: `Cannot reach OpenAI Realtime: ${error.message}` }))
  }
  ws.on("error", failed)
  ws.on("open", () => {
    const waiting = settle
    if (waiting === undefined) return
    settle = undefined
    clearTimeout(deadline)
    deadline = undefined
    waiting(new RealtimeSocket(ws, socket!))
  })
  // ws's own message for its handshake timeout.
  deadline = setTimeout(() => failed(new Error("Opening handshake has timed out")), timeoutMs)
  return () => {
    settle = undefined
    clearTimeout(deadline)
    ws.terminate()
  }
}

/** `connectRealtime` as an effect: interrupting it terminates the socket. */
export const openRealtime = (url: string, apiKey: string, timeoutMs: number) =>
  Effect.async<RealtimeSocket, UpstreamUnavailable>((resume) => {
    const cancel = connectRealtime(url, apiKey, timeoutMs, (result) =>
      resume(result instanceof RealtimeSocket ? Effect.succeed(result) : Effect.fail(result)))
    return Effect.sync(cancel)
  })
