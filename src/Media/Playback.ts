/**
 * What the caller has actually heard. Assistant audio is queued at Twilio faster than it
 * plays, so "sent" overstates it; Twilio echoes a `mark` once the audio before it has
 * played. We mark every 200 ms of audio (and at the end of each item) and remember, per
 * mark, which item it belongs to and how far into that item it is. Every mark costs an
 * echo from Twilio to read; 200 ms keeps that cost small and a truncation within a
 * fraction of a word of what the caller heard. On barge-in the item
 * being played is truncated at min(sent, played) — mu-law at 8 kHz is 8 bytes per ms.
 */

/** 200 ms of mu-law: the precision of "played". */
export const MARK_INTERVAL_BYTES = 1600

const BYTES_PER_MS = 8

export interface Truncation {
  readonly itemId: string
  readonly audioEndMs: number
}

export interface Interruption {
  /** Whether any assistant audio may still be queued at Twilio (then send `clear`). */
  readonly clear: boolean
  /** Items to truncate; the first was playing, later ones never started. */
  readonly truncations: ReadonlyArray<Truncation>
}

const NOTHING_PLAYING: Interruption = { clear: false, truncations: [] }

export class Playback {
  private nextMark = 1
  /**
   * Unacknowledged marks, oldest first from mark `head`: item, offset in item, side by side in
   * one list (two lists, each with its own backing store, were ~0.18 KB more per call with a mark
   * awaiting its echo). Their sequence numbers are consecutive (each mark takes the next, and
   * only a prefix or all of them go), so the first one's is enough.
   */
  private firstSeq = 0
  private readonly marks: Array<string | number> = []
  private head = 0
  /** The item audio is being sent for, and how much of it has been sent. */
  private itemId: string | undefined = undefined
  private itemSent = 0
  private sinceMark = 0
  /** The last acknowledged position. */
  private ackedItem: string | undefined = undefined
  private ackedOffset = 0
  /** Marks up to here were cleared (Twilio echoes them on `clear`) and mean nothing. */
  private ignoreThrough = 0
  /** Marks up to here belong to an upstream session that is gone: never truncate their items. */
  private staleThrough = 0

  /**
   * Counts `bytes` of item `itemId` as sent to Twilio. Returns the name of a mark to send
   * right after that audio, or undefined when the last mark is recent enough.
   */
  sent(itemId: string, bytes: number): string | undefined {
    // Each delta brings its own copy of the item's id: the marks keep the item's first one, so
    // marks waiting for their echo (many, when Twilio plays behind) share one string.
    let item = this.itemId
    if (itemId !== item) {
      item = this.itemId = itemId
      this.itemSent = 0
      this.sinceMark = 0
    }
    this.itemSent += bytes
    this.sinceMark += bytes
    return this.sinceMark >= MARK_INTERVAL_BYTES ? this.mark(item) : undefined
  }

  /** A mark for audio sent since the last one (an item's audio is complete), if any. */
  flush(): string | undefined {
    return this.sinceMark > 0 && this.itemId !== undefined ? this.mark(this.itemId) : undefined
  }

  /** Twilio played everything up to the mark named `name`. */
  acknowledged(name: string): void {
    const seq = Number(name)
    if (!Number.isInteger(seq) || seq <= this.ignoreThrough) return
    const count = this.markCount
    while (this.head < count && this.firstSeq + this.head <= seq) {
      this.ackedItem = this.itemOf(this.head)
      this.ackedOffset = this.offsetOf(this.head)
      this.head++
    }
    // Acknowledged marks go once they are half the list (a splice per as many marks as it
    // moves): with audio queued at Twilio the whole call long, waiting for "all played" kept
    // up to a thousand spent marks per call.
    if (this.head === count) this.compact()
    else if (this.head >= 16 && this.head * 2 >= count) this.dropAcknowledged()
  }

  /** Assistant audio is queued or playing at Twilio. */
  get speaking(): boolean {
    return this.head < this.markCount || this.sinceMark > 0
  }

  /** The caller started talking: what to truncate; everything in flight is forgotten. */
  interrupt(): Interruption {
    if (!this.speaking) return NOTHING_PLAYING
    const items: Array<string> = []
    const sent = new Map<string, number>()
    for (let i = this.head; i < this.markCount; i++) {
      if (this.firstSeq + i <= this.staleThrough) continue
      const item = this.itemOf(i)
      if (!sent.has(item)) items.push(item)
      sent.set(item, this.offsetOf(i))
    }
    if (this.sinceMark > 0 && this.itemId !== undefined) {
      if (!sent.has(this.itemId)) items.push(this.itemId)
      sent.set(this.itemId, this.itemSent)
    }
    const truncations = items.map((itemId, index) => {
      const played = index === 0 && itemId === this.ackedItem ? this.ackedOffset : 0
      return { itemId, audioEndMs: Math.floor(Math.min(sent.get(itemId)!, played) / BYTES_PER_MS) }
    })
    this.ignoreThrough = this.nextMark - 1
    this.compact()
    this.itemId = undefined
    this.itemSent = 0
    this.sinceMark = 0
    return { clear: true, truncations }
  }

  /**
   * The upstream session was replaced: its item ids mean nothing to the new one. Returns
   * a mark to send for its unmarked audio, so "still speaking" stays accurate.
   */
  detachItems(): string | undefined {
    const tail = this.flush()
    this.staleThrough = this.nextMark - 1
    this.itemId = undefined
    return tail
  }

  private mark(itemId: string): string {
    const seq = this.nextMark++
    if (this.marks.length === 0) this.firstSeq = seq
    this.marks.push(itemId, this.itemSent)
    this.sinceMark = 0
    return String(seq)
  }

  /** Marks kept (acknowledged ones before `head` included). */
  private get markCount(): number {
    return this.marks.length >> 1
  }

  private itemOf(mark: number): string {
    return this.marks[2 * mark] as string
  }

  private offsetOf(mark: number): number {
    return this.marks[2 * mark + 1] as number
  }

  private dropAcknowledged(): void {
    this.firstSeq += this.head
    this.marks.splice(0, 2 * this.head)
    this.head = 0
  }

  private compact(): void {
    this.marks.length = 0
    this.head = 0
  }
}
