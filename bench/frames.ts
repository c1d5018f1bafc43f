/**
 * The load generator's audio: every 160-byte mu-law frame starts with 6 bytes naming its
 * call (uint16) and sequence number (uint32), so the receiving side learns from the first
 * 8 base64 characters which frame arrived, without decoding the rest.
 */

const TAIL = Buffer.alloc(154, 0xd5).toString("base64") // 6 + 154 = 160 bytes; 8 + 208 = 216 chars
const header = Buffer.alloc(6)

export const encodeFrame = (call: number, seq: number): string => {
  header.writeUInt16BE(call, 0)
  header.writeUInt32BE(seq >>> 0, 2)
  return header.toString("base64") + TAIL
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
const VALUE = new Int8Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) VALUE[ALPHABET.charCodeAt(i)] = i

/** Reads call and sequence from the 8 base64 characters at `at` in `bytes` (into `out`). */
export const decodeFrame = (bytes: Buffer, at: number, out: { call: number; seq: number }): boolean => {
  if (at + 8 > bytes.length) return false
  const v = (i: number) => VALUE[bytes[at + i]! & 0x7f]!
  const v0 = v(0), v1 = v(1), v2 = v(2), v3 = v(3), v4 = v(4), v5 = v(5), v6 = v(6), v7 = v(7)
  if ((v0 | v1 | v2 | v3 | v4 | v5 | v6 | v7) < 0) return false
  out.call = (v0 << 10) | (v1 << 4) | (v2 >> 2)
  out.seq = (v2 & 3) * 2 ** 30 + ((v3 << 24) | (v4 << 18) | (v5 << 12) | (v6 << 6) | v7)
  return true
}

/** Latencies in 0.1 ms buckets up to 5 s (beyond that: counted as overflow at the max seen). */
export class Histogram {
  private readonly buckets = new Uint32Array(50_001)
  count = 0
  max = 0

  record(ms: number): void {
    const bucket = ms <= 0 ? 0 : Math.min(50_000, Math.round(ms * 10))
    this.buckets[bucket]!++
    this.count++
    if (ms > this.max) this.max = ms
  }

  percentile(fraction: number): number {
    if (this.count === 0) return NaN
    const rank = Math.ceil(this.count * fraction)
    let seen = 0
    for (let i = 0; i < this.buckets.length; i++) {
      seen += this.buckets[i]!
      if (seen >= rank) return i === 50_000 ? this.max : i / 10
    }
    return this.max
  }

  reset(): void {
    this.buckets.fill(0)
    this.count = 0
    this.max = 0
  }
}

/** Per-direction bookkeeping: latency, loss and order, per call. */
export class Direction {
  readonly latency = new Histogram()
  readonly sentAt: Array<Float64Array> = []
  readonly sent: Array<number> = []
  readonly received: Array<number> = []
  readonly next: Array<number> = []
  reordered = 0
  duplicates = 0
  measuring = false

  addCall(): void {
    this.sentAt.push(new Float64Array(1024))
    this.sent.push(0)
    this.received.push(0)
    this.next.push(0)
  }

  /** Records a send; returns the sequence number to put in the frame. */
  send(call: number, now: number): number {
    const seq = this.sent[call]!++
    this.sentAt[call]![seq & 1023] = now
    return seq
  }

  receive(call: number, seq: number, now: number): void {
    if (call >= this.received.length) return
    this.received[call]!++
    const expected = this.next[call]!
    if (seq < expected) {
      if (seq === expected - 1) this.duplicates++
      else this.reordered++
    } else {
      this.next[call] = seq + 1
    }
    if (this.measuring && this.sent[call]! - seq < 1024) this.latency.record(now - this.sentAt[call]![seq & 1023]!)
  }

  get lost(): number {
    let lost = 0
    for (let i = 0; i < this.sent.length; i++) lost += Math.max(0, this.sent[i]! - this.received[i]!)
    return lost
  }

  get totalSent(): number {
    return this.sent.reduce((a, b) => a + b, 0)
  }
}
