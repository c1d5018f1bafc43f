import { Effect, Exit, Schema, type Tracer } from "effect"
import type { StreamClaims } from "../Auth/StreamTokens.js"
import type { EndReason } from "./BridgeHooks.js"
import type { TwilioStart } from "./TwilioEvents.js"
import type { TwilioHandler } from "./TwilioSocket.js"

/** The socket closed (or Twilio said stop) before the call started. */
export class StreamClosed extends Schema.TaggedError<StreamClosed>()("StreamClosed", {}) {}

/** Why a stream that did not authenticate within the bootstrap deadline is closed. */
export const LATE = "no authenticated start event in time"

/** Why a socket is turned away after the upgrade; closed with a policy-violation code. */
export class StreamRejected extends Schema.TaggedError<StreamRejected>()("StreamRejected", {
  message: Schema.String
}) {}

/** What the upgrade request itself proved, before any frame arrived. */
export type PreAuth =
  | { readonly _tag: "StreamToken"; readonly claims: StreamClaims }
  | { readonly _tag: "Tenant"; readonly tenantId: string }
  | { readonly _tag: "None" }

/** A call's scope and span, closed and ended when the call's fiber exits (Call.ts, CallClosing.ts). */
export interface CallScope {
  readonly span: Tracer.Span
  /** Closes the call's scope with `exit` (its finalizers), then ends its span. */
  close(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void>
}

/** What the stream does when the socket's fiber exits (MediaStreams). */
export interface StreamEnd {
  /** Ends the bootstrap, once. */
  settle(): void
  /**
   * Closes `call` with the fiber's exit, first, if the set-up fails; undefined once the call is
   * handed over to run on without the fiber (its own closing closes it then).
   */
  closeWith(call: CallScope | undefined): void
}

/** How much early audio sockets may hold: per socket, and one running total shared by all. */
export interface AudioBudget {
  readonly perSocket: number
  readonly total: { used: number; readonly max: number }
}

const unbounded: AudioBudget = { perSocket: Infinity, total: { used: 0, max: Infinity } }

/**
 * The Twilio socket's handler until the call is running: waits for `start`, keeps the
 * caller's audio (it is relayed once the upstream is open), notices an early hang-up.
 */
export class BootstrapHandler implements TwilioHandler {
  /** Caller audio that arrived before the call was running (views into their frames). */
  readonly audio: Array<Buffer> = []
  /**
   * How the wait for `start` ended (the first outcome wins), and the fiber waiting for it. A
   * `Deferred` here was kept by the call for its length with a hidden class of its own (~1 KB
   * per live call: bench/RESULTS.md).
   */
  private outcome: Exit.Exit<TwilioStart, StreamClosed | StreamRejected> | undefined = undefined
  private waiting: ((outcome: Exit.Exit<TwilioStart, StreamClosed | StreamRejected>) => void) | undefined = undefined
  endedEarly: EndReason | undefined = undefined
  /** No authenticated `start` within the bootstrap deadline. */
  late = false
  /** What ends with the socket's fiber (set by the stream): an object, so a socket keeps no closure for it. */
  settlement: StreamEnd | undefined = undefined
  private held = 0
  /** Whether `held` still counts in the replica's total (until `release`). */
  private counted = true

  constructor(private readonly budget: AudioBudget = unbounded) {}

  /** Early audio past this socket's or the replica's budget is dropped (a caller never talks long before `start`). */
  media(bytes: Buffer, start: number, end: number): void {
    const size = end - start
    if (this.held + size > this.budget.perSocket) return
    if (this.counted) {
      if (this.budget.total.used + size > this.budget.total.max) return
      this.budget.total.used += size
    }
    this.held += size
    this.audio.push(bytes.subarray(start, end))
  }

  /**
   * Ends the bootstrap once (its deadline, its early-audio budget, its place among the set-ups
   * in flight). A call whose token's use is recorded with its ledger row calls it once that is
   * done, so the set-up counts until then.
   */
  settle(): void {
    this.settlement?.settle()
  }

  /** The bootstrap is over: this socket's audio leaves the replica's total (the per-socket bound stays). */
  release(): void {
    if (!this.counted) return
    this.counted = false
    this.budget.total.used -= this.held
  }

  /** Waits for `start` (or whatever ended the wait first). Nothing to undo if interrupted. */
  started(): Effect.Effect<TwilioStart, StreamClosed | StreamRejected> {
    return Effect.async((resume) => {
      if (this.outcome !== undefined) resume(this.outcome)
      else this.waiting = resume
    })
  }

  private done(outcome: Exit.Exit<TwilioStart, StreamClosed | StreamRejected>): void {
    if (this.outcome !== undefined) return
    this.outcome = outcome
    const waiting = this.waiting
    this.waiting = undefined
    waiting?.(outcome)
  }

  mark(): void {}

  dtmf(): void {}

  start(event: TwilioStart): void {
    this.done(Exit.succeed(event))
  }

  stop(): void {
    this.endedEarly ??= "stop"
    this.done(Exit.fail(new StreamClosed()))
  }

  /** No `start` in time: the wait for it fails (a timer, not a racing fiber per socket). */
  timedOut(message: string): void {
    this.late = true
    this.done(Exit.fail(new StreamRejected({ message })))
  }

  closed(): void {
    this.endedEarly ??= "caller_hangup"
    this.done(Exit.fail(new StreamClosed()))
  }
}
