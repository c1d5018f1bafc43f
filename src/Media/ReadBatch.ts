import type { Duplex } from "node:stream"
import type { FrameWriter } from "./FrameWriter.js"

type DataListener = (this: Duplex, chunk: Buffer) => void

/** Every socket's batched listener, known again when its socket closes (`unbatch`). */
const batchedListeners = new WeakSet<DataListener>()

/**
 * On close ws removes its listener before draining the socket by hand; ours must be gone by
 * then too, or that last chunk would reach ws twice. One function for every socket: a `once`
 * wrapper and a closure per socket were ~0.45 KB per call (two sockets).
 */
function unbatch(this: Duplex): void {
  for (const listener of this.listeners("data")) {
    if (batchedListeners.has(listener as DataListener)) this.removeListener("data", listener as DataListener)
  }
}

/**
 * Writes caused by one read go out together. `ws` parses each TCP read in its socket's
 * 'data' listener and emits the read's frames synchronously; we wrap that one listener
 * so the peer's `FrameWriter` holds what the read relays (a burst of deltas, a media
 * frame and its mark) and writes it at the end: one frame plainly, several in one
 * syscall. No timer or tick callback per frame, and no second 'data' listener (which
 * would make Node copy the listener list on every read).
 */
export class ReadBatch {
  private target: FrameWriter | undefined = undefined

  /** Call once `ws` owns `source` (it has attached its 'data' listener). */
  constructor(source: Duplex) {
    const listeners = source.listeners("data")
    // Not the shape we know (ws attaches exactly one): leave the socket alone, unbatched.
    if (listeners.length !== 1) return
    const parse = listeners[0] as DataListener
    const batch = this
    const batched = function(this: Duplex, chunk: Buffer) {
      const target = batch.target
      if (target === undefined) return parse.call(this, chunk)
      target.hold()
      try {
        parse.call(this, chunk)
      } finally {
        target.release()
      }
    }
    source.removeListener("data", parse)
    source.on("data", batched)
    batchedListeners.add(batched)
    source.prependListener("close", unbatch)
  }

  /** Where this source's frames are relayed (none while that side is not connected). */
  writesTo(target: FrameWriter | undefined): void {
    this.target = target
  }
}
