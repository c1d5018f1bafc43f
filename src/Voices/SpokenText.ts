import type { Alignment } from "./Protocol.js"

/** mu-law at 8 kHz: 8 bytes per ms. */
const BYTES_PER_MS = 8
/** Only the latest items can still be playing when the caller interrupts. */
const ITEMS_KEPT = 8

interface Timeline {
  text: string
  /** Audio received so far, in ms. */
  audioMs: number
  readonly chars: Array<string>
  /** When each character starts, in ms from the start of the item's audio. */
  readonly startsMs: Array<number>
}

/**
 * Which words of an assistant item the caller heard by a point in its audio, from the
 * alignment ElevenLabs sends with each chunk (per-chunk character start times). Without
 * alignment the text is cut in proportion to the audio played, at a word boundary.
 */
export class SpokenText {
  private readonly items = new Map<string, Timeline>()

  /** A chunk of `audioBytes` mu-law bytes of item `itemId`, whose text so far is `text`. */
  heard(itemId: string, text: string, audioBytes: number, alignment: Alignment | undefined): void {
    let timeline = this.items.get(itemId)
    if (timeline === undefined) {
      timeline = { text, audioMs: 0, chars: [], startsMs: [] }
      this.items.set(itemId, timeline)
      if (this.items.size > ITEMS_KEPT) this.items.delete(this.items.keys().next().value!)
    }
    timeline.text = text
    if (alignment !== undefined) {
      const count = Math.min(alignment.chars.length, alignment.charStartTimesMs.length)
      for (let i = 0; i < count; i++) {
        timeline.chars.push(alignment.chars[i]!)
        timeline.startsMs.push(timeline.audioMs + alignment.charStartTimesMs[i]!)
      }
    }
    timeline.audioMs += audioBytes / BYTES_PER_MS
  }

  /** The text of `itemId` spoken before `ms` of its audio had played. */
  until(itemId: string, ms: number): string {
    const timeline = this.items.get(itemId)
    if (timeline === undefined || ms <= 0) return ""
    if (timeline.chars.length > 0) {
      let spoken = ""
      for (let i = 0; i < timeline.chars.length && timeline.startsMs[i]! < ms; i++) spoken += timeline.chars[i]
      return spoken.trim()
    }
    if (timeline.audioMs <= 0) return ""
    const share = Math.min(1, ms / timeline.audioMs)
    const cut = timeline.text.slice(0, Math.round(timeline.text.length * share))
    const boundary = share >= 1 ? cut.length : cut.lastIndexOf(" ")
    return cut.slice(0, boundary === -1 ? 0 : boundary).trim()
  }
}
