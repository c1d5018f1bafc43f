import type { MediaTap } from "../Media/BridgeHooks.js"
import type { TwilioSocket } from "../Media/TwilioSocket.js"
import { Mixer } from "./Mixer.js"

/** A listen-only leg's media socket, attached to a call. */
export interface Listener {
  readonly socket: TwilioSocket
  /** The leg's Twilio call (from its `start`), so the call's end does not hang up a leg already gone. */
  readonly callSid: string | null
  /** Ends the leg's stream fiber (the call ended, or the listener was too slow). */
  readonly end: () => void
}

/** Bytes a listener's socket may hold unsent (about 9 s of frames) before it is dropped. */
export const MAX_LISTENER_BUFFER_BYTES = 128 * 1024

/** A listener's socket too far behind is closed with this (Try Again Later). */
const CLOSE_TOO_SLOW = 1013

/** Where the listeners of a call hook in: the call's bridge (`tap` is set only while someone listens). */
export interface Tappable {
  tap: MediaTap | undefined
}

/**
 * The listeners of one call and the mix they hear. Runs inside the call's socket callbacks:
 * per caller frame one mix, sent to each listener. A listener whose socket backs up is
 * dropped; the call never waits for it.
 */
export class Listeners implements MediaTap {
  /** Made when the first listener attaches (its 10 s ring is not worth holding for every call). */
  private mixer: Mixer | undefined = undefined
  private readonly attached = new Set<Listener>()

  constructor(private readonly call: Tappable) {}

  get size(): number {
    return this.attached.size
  }

  add(listener: Listener): void {
    this.attached.add(listener)
    this.mixer ??= new Mixer()
    this.call.tap = this
  }

  remove(listener: Listener): void {
    if (!this.attached.delete(listener) || this.attached.size > 0) return
    // Nobody listens: the call's frames cost nothing again.
    if (this.call.tap === this) this.call.tap = undefined
    this.mixer = undefined
  }

  /** The call has ended: every listener's stream is closed. */
  closeAll(reason: string): void {
    for (const listener of [...this.attached]) this.drop(listener, 1000, reason)
  }

  caller(bytes: Buffer, start: number, end: number): void {
    if (this.mixer === undefined) return
    const mixed = this.mixer.mix(Buffer.from(bytes.toString("latin1", start, end), "base64"))
    const payload = Buffer.from(mixed.toString("base64"), "latin1")
    for (const listener of this.attached) {
      if (listener.socket.socket.writableLength > MAX_LISTENER_BUFFER_BYTES) {
        this.drop(listener, CLOSE_TOO_SLOW, "listener too slow")
        continue
      }
      listener.socket.sendMedia(payload, 0, payload.length)
    }
  }

  agent(bytes: Buffer, start: number, end: number): void {
    this.mixer?.agent(Buffer.from(bytes.toString("latin1", start, end), "base64"))
  }

  clear(): void {
    this.mixer?.clear()
  }

  private drop(listener: Listener, code: number, reason: string): void {
    this.remove(listener)
    listener.socket.close(code, reason)
    listener.end()
  }
}
