import type { TranscriptEntry } from "../Media/CallRecorder.js"
import type { EndReason } from "../Media/BridgeHooks.js"
import { type AudioDelta, base64ByteLength } from "../Media/FastFrames.js"
import { Playback } from "../Media/Playback.js"
import * as Client from "../Media/RealtimeEvents.js"
import type { RealtimeEvent } from "../Media/RealtimeEvents.js"
import type { RealtimeHandler, RealtimeSocket } from "../Media/RealtimeSocket.js"
import type { TwilioHandler, TwilioSocket } from "../Media/TwilioSocket.js"
import type { Side } from "./Rooms.js"

/** Caller audio held per leg while its session opens (base64 bytes): ~10 s of mu-law. */
const MAX_QUEUED_BYTES = 110_000

export interface RoomHooks {
  readonly now: () => number
  readonly ended: (reason: EndReason, side: Side | undefined, message: string | null) => void
  readonly warn: (message: string) => void
}

const other = (side: Side): Side => side === "a" ? "b" : "a"

/**
 * One leg of a translation room: its party's Twilio stream and its own interpreter
 * session (that party's speech in, the translation out). The session's audio is played on
 * the OTHER leg's stream, so each leg's `playback` tracks what its party hears: the other
 * session's translation. Plain callbacks like the bridge; slow work goes through the room's hooks.
 */
export class TranslationLeg implements TwilioHandler, RealtimeHandler {
  /** What this leg's party hears (the peer session's audio), marked every 200 ms. */
  readonly playback = new Playback()
  upstream: RealtimeSocket | undefined = undefined
  private readonly queued: Array<Buffer> = []
  private queuedBytes = 0
  /** Responses of this leg's session the listener cut off: their late deltas are dropped. */
  readonly cancelled = new Set<string>()
  activeResponse: string | undefined = undefined

  constructor(
    private readonly room: TranslationRoom,
    readonly side: Side,
    readonly language: string,
    readonly twilio: TwilioSocket,
    earlyAudio: ReadonlyArray<Buffer>
  ) {
    for (const audio of earlyAudio) this.media(audio, 0, audio.length)
  }

  private get peer(): TranslationLeg | undefined {
    return this.room.leg(other(this.side))
  }

  // --- this party's stream ---------------------------------------------------------------

  media(bytes: Buffer, start: number, end: number): void {
    if (this.upstream !== undefined) return this.upstream.sendAudio(bytes, start, end)
    if (this.room.done || this.queuedBytes + (end - start) > MAX_QUEUED_BYTES) return
    this.queuedBytes += end - start
    this.queued.push(Client.appendAudio(bytes, start, end))
  }

  mark(name: string): void {
    this.playback.acknowledged(name)
  }

  start(): void {}

  dtmf(): void {}

  stop(): void {
    this.room.finish("stop", this.side, null)
  }

  closed(): void {
    this.room.finish("caller_hangup", this.side, null)
  }

  // --- this party's interpreter session ------------------------------------------------------

  /** Translated audio: straight to the other party's stream, base64 bytes copied as they came. */
  audio(delta: AudioDelta): void {
    const peer = this.peer
    if (this.room.done || peer === undefined || this.cancelled.has(delta.responseId)) return
    const mark = peer.playback.sent(delta.itemId, base64ByteLength(delta.bytes, delta.start, delta.end))
    peer.twilio.sendMedia(delta.bytes, delta.start, delta.end, mark)
  }

  event(event: RealtimeEvent): void {
    if (this.room.done) return
    switch (event.type) {
      case "input_audio_buffer.speech_started":
        return this.room.bargeIn(this.side)
      case "conversation.item.input_audio_transcription.completed":
        return this.room.said(this.side, this.language, "user", event.transcript)
      case "response.output_audio_transcript.done":
      case "response.audio_transcript.done":
        return this.room.said(this.side, this.room.languageOf(other(this.side)), "assistant", event.transcript)
      case "response.created":
        this.activeResponse = event.response.id
        return
      case "response.done":
        this.cancelled.delete(event.response.id)
        if (this.activeResponse === event.response.id) this.activeResponse = undefined
        return
      case "response.output_audio.done":
      case "response.audio.done": {
        const peer = this.peer
        const mark = peer?.playback.flush()
        if (peer !== undefined && mark !== undefined) peer.twilio.sendMark(mark)
        return
      }
      case "error":
        return this.room.hooks.warn(`OpenAI Realtime error (translation leg ${this.side}): ${event.error.message}`)
    }
  }

  /** No reconnect for an interpreter: the room ends (both legs) and says why. */
  lost(reason: string): void {
    this.upstream = undefined
    this.room.finish("upstream_failure", this.side, reason)
  }

  /** The session is open: it is told its job, then gets the audio queued meanwhile. */
  upstreamReady(socket: RealtimeSocket, sessionUpdate: string): void {
    if (this.room.done) return socket.close()
    socket.send(sessionUpdate)
    for (const message of this.queued) socket.send(message)
    this.queued.length = 0
    this.queuedBytes = 0
    this.upstream = socket
    this.twilio.reads.writesTo(socket.writer)
    this.room.linkWriters()
    socket.attach(this)
  }
}

/**
 * Two legs interpreting for each other, on one replica. Barge-in: when a party starts
 * speaking (their session's `speech_started`), what they are hearing — the other
 * session's translation — is cleared from their stream, the other session's items are
 * truncated at what was played (Playback marks) and its reply in progress is cancelled,
 * exactly as the bridge does for an agent the caller talks over. A party who speaks on
 * while their own translation plays does not cut it off.
 */
export class TranslationRoom {
  private readonly legs: { a: TranslationLeg | undefined; b: TranslationLeg | undefined } = { a: undefined, b: undefined }
  /** Both parties' words and their translations, in order, tagged with side and language. */
  readonly transcript: Array<TranscriptEntry> = []
  done = false
  endedBy: Side | undefined = undefined

  constructor(
    readonly roomId: string,
    private readonly languages: { readonly a: string; readonly b: string },
    readonly hooks: RoomHooks
  ) {}

  leg(side: Side): TranslationLeg | undefined {
    return this.legs[side]
  }

  languageOf(side: Side): string {
    return this.languages[side]
  }

  join(side: Side, twilio: TwilioSocket, earlyAudio: ReadonlyArray<Buffer>): TranslationLeg {
    const leg = new TranslationLeg(this, side, this.languages[side], twilio, earlyAudio)
    this.legs[side] = leg
    twilio.handler = leg
    this.linkWriters()
    return leg
  }

  /** Each session's reads batch their writes to the other party's stream (ReadBatch). */
  linkWriters(): void {
    const { a, b } = this.legs
    if (a?.upstream !== undefined && b !== undefined) a.upstream.reads.writesTo(b.twilio.writer)
    if (b?.upstream !== undefined && a !== undefined) b.upstream.reads.writesTo(a.twilio.writer)
  }

  bargeIn(speaker: Side): void {
    const listener = this.legs[speaker]
    const source = this.legs[other(speaker)]
    if (listener === undefined) return
    const interruption = listener.playback.interrupt()
    if (interruption.clear) listener.twilio.sendClear()
    if (source?.upstream === undefined) return
    for (const cut of interruption.truncations) source.upstream.send(Client.truncateItem(cut.itemId, cut.audioEndMs))
    const active = source.activeResponse
    if (active !== undefined && interruption.clear) {
      source.cancelled.add(active)
      source.upstream.send(Client.responseCancel())
    }
  }

  said(side: Side, language: string, role: "user" | "assistant", text: string): void {
    const content = text.trim()
    if (content === "") return
    const tag = role === "user" ? `[${side.toUpperCase()} ${language}]` : `[${side.toUpperCase()}->${other(side).toUpperCase()} ${language}]`
    this.transcript.push({ role, content: `${tag} ${content}`, timestamp: new Date(this.hooks.now()) })
  }

  /** Ends the room (once), whichever leg or cause ended it. */
  finish(reason: EndReason, side: Side | undefined, message: string | null): boolean {
    if (this.done) return false
    this.done = true
    this.endedBy = side
    this.hooks.ended(reason, side, message)
    return true
  }

  /** Closes both legs' sockets. */
  close(): void {
    for (const leg of [this.legs.a, this.legs.b]) {
      if (leg === undefined) continue
      leg.upstream?.close()
      leg.twilio.close(1000, "translation call ended")
    }
  }
}
