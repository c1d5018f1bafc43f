import { type AudioDelta, base64ByteLength } from "../Media/FastFrames.js"
import type { CallRecorder } from "../Media/CallRecorder.js"
import type { Truncation } from "../Media/Playback.js"
import { assistantText, deleteItem } from "../Media/RealtimeEvents.js"
import { ElevenLabsStream, type StreamEvents, type StreamTimings } from "./ElevenLabsStream.js"
import type { Alignment, ElevenLabsTarget } from "./Protocol.js"
import { SpokenText } from "./SpokenText.js"

/** What the call's bridge does with the voice's output. */
export interface VoiceListener {
  /** ElevenLabs audio of an assistant item: relayed exactly like model audio. */
  voiceAudio(delta: AudioDelta): void
  /** An item was spoken to its end; `text` is what it said. */
  voiceFinished(itemId: string, text: string): void
  /** ElevenLabs cannot speak for this call any more. */
  voiceFailed(reason: string): void
}

/** Audio is relayed in slices of at most this much base64 (1200 bytes, 150 ms), so playback marks stay precise. */
const SLICE = 1600

/**
 * A call's ElevenLabs voice: the model answers in text, each assistant item is streamed to
 * its own ElevenLabs socket as the text arrives, and the audio comes back to the bridge.
 * The first failure of any stream fails the voice: the bridge falls back to OpenAI audio.
 */
export class ElevenLabsVoice implements StreamEvents {
  private readonly streams = new Map<string, ElevenLabsStream>()
  private readonly spoken = new SpokenText()
  private listener: VoiceListener | undefined = undefined
  private broken = false

  constructor(readonly target: ElevenLabsTarget, private readonly timings: StreamTimings) {}

  listen(listener: VoiceListener): void {
    this.listener = listener
  }

  /** A text delta of assistant item `itemId`. */
  text(responseId: string, itemId: string, delta: string): void {
    if (this.broken) return
    let stream = this.streams.get(itemId)
    if (stream === undefined) {
      try {
        stream = new ElevenLabsStream(responseId, itemId, this.target, this.timings, this)
      } catch {
        // `ws` refuses a malformed URL synchronously: the voice cannot work for this call.
        return this.failed(undefined, "cannot open an ElevenLabs stream (invalid ELEVENLABS_BASE_URL?)")
      }
      this.streams.set(itemId, stream)
    }
    stream.send(delta)
  }

  /** The response's text is complete: its streams finish speaking. */
  responseDone(responseId: string): void {
    for (const stream of this.streams.values()) if (stream.responseId === responseId) stream.end()
  }

  /** Audio is still to come from ElevenLabs. */
  get busy(): boolean {
    return this.streams.size > 0
  }

  /**
   * The caller barged in: every stream stops. A text item has no audio to truncate, so each
   * item cut (`cuts`, from Playback: audio played per item) or never played is replaced by
   * the words the caller heard, in the record (`recorder`) and in the conversation: returns
   * the messages for the model.
   */
  interrupt(cuts: ReadonlyArray<Truncation>, recorder: CallRecorder, now: number): ReadonlyArray<string> {
    const heard = new Map<string, string>()
    for (const cut of cuts) heard.set(cut.itemId, this.spoken.until(cut.itemId, cut.audioEndMs))
    for (const stream of this.streams.values()) {
      stream.close()
      if (!heard.has(stream.itemId)) heard.set(stream.itemId, "")
    }
    this.streams.clear()
    return [...heard].flatMap(([itemId, text]) => {
      recorder.spoken(itemId, text, now)
      return text === "" ? [deleteItem(itemId)] : [deleteItem(itemId), assistantText(text)]
    })
  }

  /** The voice is given up (fallback): stops every stream, returns the items not spoken to their end. */
  abandon(): ReadonlyArray<string> {
    this.broken = true
    const unfinished = [...this.streams.keys()]
    this.close()
    return unfinished
  }

  close(): void {
    for (const stream of this.streams.values()) stream.close()
    this.streams.clear()
  }

  // --- from the streams --------------------------------------------------------------------

  chunk(stream: ElevenLabsStream, audio: string, alignment: Alignment | undefined): void {
    const bytes = Buffer.from(audio, "latin1")
    this.spoken.heard(stream.itemId, stream.text, base64ByteLength(bytes, 0, bytes.length), alignment)
    for (let start = 0; start < bytes.length; start += SLICE) {
      this.listener?.voiceAudio({
        responseId: stream.responseId,
        itemId: stream.itemId,
        bytes,
        start,
        end: Math.min(start + SLICE, bytes.length)
      })
      // A barge-in or a hang-up inside voiceAudio stops the rest of the chunk.
      if (this.streams.get(stream.itemId) !== stream) return
    }
  }

  final(stream: ElevenLabsStream): void {
    this.streams.delete(stream.itemId)
    this.listener?.voiceFinished(stream.itemId, stream.text)
  }

  failed(_stream: ElevenLabsStream | undefined, reason: string): void {
    if (this.broken) return
    this.broken = true
    this.listener?.voiceFailed(reason)
  }
}
