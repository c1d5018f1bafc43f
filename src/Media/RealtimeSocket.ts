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

/** Where ws's listeners (shared by every socket, `this` is the ws) find the socket's RealtimeSocket. */
const REALTIME = Symbol("RealtimeSocket")
/** An upstream ws while it opens: what its shared listeners settle. */
const OPENING = Symbol("Opening")
type Upstream = WebSocket & { [REALTIME]?: RealtimeSocket; [OPENING]?: Opening | undefined }

function onRealtimeMessage(this: Upstream, data: RawData, isBinary: boolean): void {
  this[REALTIME]!.received(data, isBinary)
}

function onRealtimeClose(this: Upstream, code: number, reason: Buffer): void {
  this[REALTIME]!.closedBy(code, reason)
}

/**
 * How much a socket with no handler holds before it stops reading (TCP pushes back on the
 * model until `attach`): a call's model is spoken to while its stream token is spent, and a
 * greeting of several seconds fits; past that nothing is dropped, it waits in the kernel.
 */
export const HELD_BYTES = 64 * 1024

/**
 * One OpenAI Realtime WebSocket. Frames that arrive before a handler is attached are
 * held (up to `HELD_BYTES`, then the socket is paused), so nothing the server says between
 * "open" and the bridge taking over is lost.
 * Its ws listeners are functions shared by every socket (a closure and context per socket
 * and listener were kept for the call's length); errors reach the opening's listener, which
 * stays registered (`connectRealtime`): a ws with no 'error' listener would throw.
 */
export class RealtimeSocket {
  private handler: RealtimeHandler | undefined = undefined
  /** Frames that came before the handler (made with the first, dropped once attached). */
  private early: Array<Buffer> | undefined = undefined
  private earlyBytes = 0
  private lostReason: string | undefined = undefined
  /** Batches what one read from OpenAI relays to the caller (see ReadBatch). */
  readonly reads: ReadBatch
  /** Our (masked) frames to OpenAI; ws only reads, pongs and closes. */
  readonly writer: FrameWriter
  private closing = false

  constructor(private readonly ws: WebSocket, readonly socket: Duplex) {
    this.reads = new ReadBatch(socket)
    this.writer = new FrameWriter(socket, true)
    ;(ws as Upstream)[REALTIME] = this
    ws.on("message", onRealtimeMessage)
    ws.on("close", onRealtimeClose)
  }

  /** The socket closed (ws's 'close'). */
  closedBy(code: number, reason: Buffer): void {
    if (this.closing) return
    this.closing = true
    const why = `OpenAI Realtime socket closed (${code}${reason.length > 0 ? ` ${reason.toString()}` : ""})`
    if (this.handler === undefined) this.lostReason = why
    else this.handler.lost(why)
  }

  attach(handler: RealtimeHandler): void {
    this.handler = handler
    const early = this.early
    this.early = undefined
    this.earlyBytes = 0
    if (early !== undefined) for (const frame of early) this.dispatch(frame, handler)
    if (this.ws.isPaused) this.ws.resume()
    if (this.lostReason !== undefined) handler.lost(this.lostReason)
  }

  /**
   * Back to holding what arrives until the next `attach`: a spare (SpareUpstreams) whose
   * watcher saw nothing a call would act on is handed to a call this way.
   */
  detach(): void {
    this.handler = undefined
  }

  /** Neither closed by us nor by the server (nor failed): a spare still worth handing over. */
  get isOpen(): boolean {
    return !this.closing && this.ws.readyState === WebSocket.OPEN
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

  /** A message from OpenAI (ws's 'message'). */
  received(data: RawData, isBinary: boolean): void {
    if (isBinary || !Buffer.isBuffer(data)) return
    if (this.handler !== undefined) return this.dispatch(data, this.handler)
    ;(this.early ??= []).push(data)
    this.earlyBytes += data.length
    if (this.earlyBytes > HELD_BYTES && !this.ws.isPaused) this.ws.pause()
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
 * An upstream socket's opening, kept on its ws until settled (then dropped): ws's listeners for
 * it are functions shared by every socket, where closures per socket (and their context, with
 * whatever opened the socket) stayed on the socket for the call's length.
 */
class Opening {
  /** The TCP socket, from the upgrade response. */
  socket: Duplex | undefined = undefined
  /**
   * Our own deadline, not ws's `handshakeTimeout`: that is the request's socket timeout, whose
   * spent Timeout (with its callback) the socket keeps for the call's length (~0.2 KB per call).
   */
  deadline: ReturnType<typeof setTimeout> | undefined = undefined

  constructor(readonly done: RealtimeOpened) {}
}

/** Ends the opening (once): the ws no longer keeps it. */
const settled = (ws: Upstream): Opening | undefined => {
  const opening = ws[OPENING]
  if (opening === undefined) return undefined
  ws[OPENING] = undefined
  clearTimeout(opening.deadline)
  return opening
}

function onOpeningUpgrade(this: Upstream, response: IncomingMessage): void {
  const opening = this[OPENING]
  if (opening !== undefined) opening.socket ??= response.socket
}

// Stays registered for the socket's life: `terminate()` while connecting emits an error of its
// own, and an open socket's errors land here (and are dropped: its 'close' follows).
function onOpeningError(this: Upstream, error: Error): void {
  const opening = settled(this)
  if (opening === undefined) return
  this.terminate()
  opening.done(new UpstreamUnavailable({ message: `Cannot reach OpenAI Realtime: ${error.message}` }))
}

function onOpeningOpen(this: Upstream): void {
  const opening = settled(this)
  if (opening !== undefined) opening.done(new RealtimeSocket(this, opening.socket!))
}

// ws's own message for its handshake timeout.
const openingTimedOut = (ws: Upstream) => onOpeningError.call(ws, new Error("Opening handshake has timed out"))

/**
 * Opens the upstream socket (GA protocol: no beta header), failing after `timeoutMs`, as plain
 * code: `done` is called once, unless the returned cancel (which terminates the socket) comes
 * first. A call opens its upstream with this when tracing is off (no fiber, span or context
 * copy per call: UpstreamOpening.open); `openRealtime` is the same as an effect.
 */
export const connectRealtime = (url: string, apiKey: string, timeoutMs: number, done: RealtimeOpened): () => void => {
  const ws: Upstream = new WebSocket(url, {
    headers: { Authorization: `Bearer ${apiKey}` },
    perMessageDeflate: false,
    skipUTF8Validation: true
  })
  const opening = new Opening(done)
  ws[OPENING] = opening
  // `on`, never `once`: removing a listener `delete`s it from the emitter's table, which then
  // stays in slow dictionary mode for every later 'message' emit.
  ws.on("upgrade", onOpeningUpgrade)
  ws.on("error", onOpeningError)
  ws.on("open", onOpeningOpen)
  opening.deadline = setTimeout(openingTimedOut, timeoutMs, ws)
  return () => {
    settled(ws)
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
