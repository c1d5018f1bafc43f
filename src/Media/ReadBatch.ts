import type { Duplex } from "node:stream"
import type { FrameWriter } from "./FrameWriter.js"

type DataListener = (this: Duplex, chunk: Buffer) => void

/** Where a socket's batched listener finds its ReadBatch: a property of the socket, read per TCP read. */
const BATCH = Symbol("ReadBatch")
type BatchedSource = Duplex & { [BATCH]?: ReadBatch }

/**
 * The 'data' listener of every batched socket: one function, where a closure per socket (and
 * its context) was ~0.1 KB per socket for the call's length.
 */
function batched(this: BatchedSource, chunk: Buffer): void {
  const batch = this[BATCH]!
  const target = batch.target
  if (target === undefined) return batch.parse.call(this, chunk)
  target.hold()
  try {
    batch.parse.call(this, chunk)
  } finally {
    target.release()
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
  target: FrameWriter | undefined = undefined
  /** ws's own 'data' listener, called by `batched`. */
  readonly parse: DataListener

  /** Call once `ws` owns `source` (it has attached its 'data' listener). */
  constructor(source: Duplex) {
    const listeners = source.listeners("data")
    this.parse = listeners[0] as DataListener
    // Not the shape we know (ws attaches exactly one): leave the socket alone, unbatched.
    if (listeners.length !== 1) return
    ;(source as BatchedSource)[BATCH] = this
    source.removeListener("data", this.parse)
    // Left on for the socket's life, with no 'close' listener to take it off (that was a listener
    // array per socket): on close ws reads what a paused socket still buffers by hand, and a
    // stream emits no 'data' once it has emitted 'close' (Node >= 20), so that last chunk reaches
    // ws once, not through here as well.
    source.on("data", batched)
  }

  /** Where this source's frames are relayed (none while that side is not connected). */
  writesTo(target: FrameWriter | undefined): void {
    this.target = target
  }
}
