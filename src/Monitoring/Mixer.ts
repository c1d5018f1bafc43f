import { mixInto } from "./MuLaw.js"

/** mu-law at 8 kHz: 8000 bytes a second. */
export const BYTES_PER_SECOND = 8000

/** Agent audio kept for listeners at most (what the model sent ahead of playback). */
export const MAX_QUEUED_SECONDS = 10

const SILENCE = 0xff

/**
 * What a listen-only leg hears: the caller and the agent, as one mu-law stream paced by the
 * caller's frames. The model sends its audio faster than it plays, so the agent's bytes wait
 * in a ring (bounded: past `MAX_QUEUED_SECONDS` new audio is dropped); each caller frame
 * takes as many agent bytes as it has (silence when there are none) and the two are added
 * as linear PCM. A barge-in (`clear`) drops what the caller will never hear.
 */
export class Mixer {
  private readonly ring: Uint8Array
  private head = 0
  private size = 0
  private scratch = new Uint8Array(160)
  /** Agent bytes dropped because the ring was full. */
  dropped = 0

  constructor(capacityBytes = MAX_QUEUED_SECONDS * BYTES_PER_SECOND) {
    this.ring = new Uint8Array(capacityBytes)
  }

  get queued(): number {
    return this.size
  }

  /** Queues agent audio (mu-law bytes as sent to the caller). */
  agent(audio: Uint8Array): void {
    const capacity = this.ring.length
    const take = Math.min(audio.length, capacity - this.size)
    this.dropped += audio.length - take
    let at = (this.head + this.size) % capacity
    for (let i = 0; i < take; i++) {
      this.ring[at] = audio[i]!
      if (++at === capacity) at = 0
    }
    this.size += take
  }

  /** The call's `clear`: agent audio not yet mixed is never played. */
  clear(): void {
    this.head = 0
    this.size = 0
  }

  /** One frame for the listener: `caller` mixed with the same number of agent bytes. */
  mix(caller: Uint8Array): Buffer {
    const length = caller.length
    if (this.scratch.length < length) this.scratch = new Uint8Array(length)
    const agent = this.scratch
    const capacity = this.ring.length
    const take = Math.min(length, this.size)
    for (let i = 0; i < take; i++) {
      agent[i] = this.ring[this.head]!
      if (++this.head === capacity) this.head = 0
    }
    this.size -= take
    agent.fill(SILENCE, take, length)
    const out = Buffer.allocUnsafe(length)
    mixInto(out, caller, agent, length)
    return out
  }
}
