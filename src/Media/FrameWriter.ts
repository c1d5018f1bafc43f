import { randomFillSync } from "node:crypto"
import type { Duplex } from "node:stream"

/**
 * Outgoing WebSocket text frames, written straight to a socket that `ws` owns. `ws` still
 * does the handshake, reads every frame, answers pings and closes the socket; only our
 * own messages skip `ws.send`, because on the media path its per-message work (options
 * object, header buffer, a second copy to mask, cork + writev of two chunks) was a
 * measurable share of the relay's CPU. A frame here is one buffer: header, then payload
 * copied (and, for a client, masked) in place, then one `socket.write`.
 *
 * Writes are batched per read: while the socket whose frames we relay is being read
 * (`hold` ... `release`), the first frame is written at once and the socket is corked
 * for any further ones, which go out together when the read is done. A read that relays
 * one frame (the common case) costs nothing extra; a burst costs two syscalls, not N.
 * Every write (ours and ws's) goes through the one socket in order: nothing overtakes.
 */

const POOL_SIZE = 8192
let pool = Buffer.alloc(0)
let poolAt = POOL_SIZE

/** Fills the 4-byte masking key at `at` from a pool of random bytes (as `ws` does). */
const putMaskKey = (frame: Buffer, at: number): void => {
  if (poolAt + 4 > POOL_SIZE) {
    if (pool.length === 0) pool = Buffer.alloc(POOL_SIZE)
    randomFillSync(pool)
    poolAt = 0
  }
  frame[at] = pool[poolAt]
  frame[at + 1] = pool[poolAt + 1]
  frame[at + 2] = pool[poolAt + 2]
  frame[at + 3] = pool[poolAt + 3]
  poolAt += 4
}

/** Bytes of the header of a text frame carrying `length` bytes. */
export const headerLength = (length: number, masked: boolean): number =>
  2 + (length < 126 ? 0 : length < 65536 ? 2 : 8) + (masked ? 4 : 0)

/**
 * Writes the header of a FIN text frame for `length` payload bytes at `at` in `target`
 * (client frames get a masking key: call `seal` once the payload is in place). Returns
 * where the payload goes.
 */
export const putTextHeader = (target: Buffer, at: number, length: number, masked: boolean): number => {
  target[at] = 0x81
  let next: number
  if (length < 126) {
    target[at + 1] = length
    next = at + 2
  } else if (length < 65536) {
    target[at + 1] = 126
    target[at + 2] = length >>> 8
    target[at + 3] = length & 0xff
    next = at + 4
  } else {
    target[at + 1] = 127
    target.writeUInt32BE(Math.floor(length / 2 ** 32), at + 2)
    target.writeUInt32BE(length >>> 0, at + 6)
    next = at + 10
  }
  if (!masked) return next
  target[at + 1] |= 0x80
  putMaskKey(target, next)
  return next + 4
}

/** A buffer holding one text frame; its payload goes at `frame.length - length`. */
export const textFrame = (length: number, masked: boolean): Buffer => {
  const frame = Buffer.allocUnsafe(headerLength(length, masked) + length)
  putTextHeader(frame, 0, length, masked)
  return frame
}

/** Masks the payload of a client frame with its key (the 4 bytes before the payload). */
export const seal = (frame: Buffer, length: number): Buffer => {
  const at = frame.length - length
  const k0 = frame[at - 4], k1 = frame[at - 3], k2 = frame[at - 2], k3 = frame[at - 1]
  let i = at
  const end = frame.length - 3
  for (; i < end; i += 4) {
    frame[i] ^= k0
    frame[i + 1] ^= k1
    frame[i + 2] ^= k2
    frame[i + 3] ^= k3
  }
  for (let k = 0; i < frame.length; i++, k++) frame[i] ^= k === 0 ? k0 : k === 1 ? k1 : k2
  return frame
}

export class FrameWriter {
  private depth = 0
  private wrote = false
  private corked = false

  constructor(private readonly socket: Duplex, readonly masked: boolean) {}

  /** A whole message as one frame (control events: they are not on the hot path). */
  text(message: string | Buffer): void {
    const payload = typeof message === "string" ? Buffer.from(message) : message
    const frame = textFrame(payload.length, this.masked)
    frame.set(payload, frame.length - payload.length)
    this.write(this.masked ? seal(frame, payload.length) : frame)
  }

  /** A frame from `textFrame` (sealed if masked). */
  write(frame: Buffer): void {
    // Ended or destroyed (the call is closing): a write would only raise an error.
    if (!this.socket.writable) return
    if (this.depth > 0) {
      if (this.wrote && !this.corked) {
        this.corked = true
        this.socket.cork()
      }
      this.wrote = true
    }
    this.socket.write(frame)
  }

  /** The relayed socket is being read: batch what it relays until `release`. */
  hold(): void {
    this.depth++
  }

  release(): void {
    if (--this.depth > 0) return
    this.wrote = false
    this.flush()
  }

  /**
   * What is written from now until `flush` goes out as one write: a session's opening (its
   * `session.update`, the greeting and the caller audio held for it) was a syscall per message.
   */
  batch(): void {
    if (this.corked || !this.socket.writable) return
    this.corked = true
    this.socket.cork()
  }

  /** Sends whatever a cork is holding back (e.g. before a close frame is queued). */
  flush(): void {
    if (!this.corked) return
    this.corked = false
    this.socket.uncork()
  }
}
