import { Cause, Effect, Exit, Option } from "effect"
import type { SetupLoad } from "../Limits/SetupLoad.js"
import { type BootstrapHandler, type CallScope, LATE, StreamClosed, type StreamEnd, StreamRejected } from "./Bootstrap.js"
import type { TwilioSocket } from "./TwilioSocket.js"

/** Policy violation: what a socket that failed to authenticate is closed with. */
const CLOSE_UNAUTHENTICATED = 1008
const CLOSE_INTERNAL_ERROR = 1011
const CLOSE_GOING_AWAY = 1001

/**
 * The sockets still waiting to authenticate: how many, and how many per client address. One
 * counts in the replica's shedding (SetupLoad) only from its `start` on: before that the replica
 * owes it nothing (the caller's side has yet to send it), and counting that wait shed callers
 * whenever a stalled loop accepted a batch of upgrades at once (bench/RESULTS.md, stop 36
 * collapse). The analysis worker still waits for all of them (SetupLoad.quietMs).
 */
export class PendingSockets {
  count = 0
  private readonly byAddress = new Map<string, number>()

  constructor(private readonly setupLoad: SetupLoad) {}

  from(address: string): number {
    return this.byAddress.get(address) ?? 0
  }

  add(address: string): void {
    this.setupLoad.streamWaiting()
    this.count++
    this.byAddress.set(address, this.from(address) + 1)
  }

  /** One of them sent its `start`: from now on it is the replica's work (SetupLoad's shedding). */
  started(): void {
    this.setupLoad.streamStarted()
  }

  done(address: string, started: boolean): void {
    this.setupLoad.streamDone(started)
    this.count--
    const left = this.from(address) - 1
    if (left <= 0) this.byAddress.delete(address)
    else this.byAddress.set(address, left)
  }
}

/** No authenticated `start` in time: the wait for it fails (a timer, not a racing fiber per socket). */
const expire = (boot: BootstrapHandler) => boot.timedOut(LATE)

/**
 * One socket's way to its call: ends its bootstrap once (`settle`: the deadline, the early-audio
 * budget, its place among the pending sockets) and, when its fiber exits, turns a failure into
 * the socket's close code and a log line. An object, so a live call keeps no closures for it.
 */
export class StreamSetUp implements StreamEnd {
  private settled = false
  private call: CallScope | undefined = undefined
  /** Counted in the replica's set-ups: its `start` came and the set-up is not settled yet. */
  private working = false
  /** Dropped once settled: a spent Timeout (and its arguments) is not kept for the call's length. */
  private deadline: ReturnType<typeof setTimeout> | undefined

  constructor(
    private readonly twilio: TwilioSocket,
    private readonly boot: BootstrapHandler,
    /** Set while the socket counts among the pending ones (it proved nothing in its request). */
    private readonly pending: PendingSockets | undefined,
    private readonly address: string,
    timeoutMs: number
  ) {
    // The deadline is a timer that fails the wait for `start` (racing a sleeping fiber
    // cost every socket two fibers); an authenticated start that comes late is turned away.
    this.deadline = setTimeout(expire, timeoutMs, boot)
    boot.settlement = this
  }

  /** Its `start` came: the replica's work on it begins, and counts until it settles. */
  starting(): void {
    if (this.settled || this.working || this.pending === undefined) return
    this.working = true
    this.pending.started()
  }

  settle(): void {
    if (this.settled) return
    this.settled = true
    clearTimeout(this.deadline)
    this.deadline = undefined
    this.boot.release()
    this.pending?.done(this.address, this.working)
  }

  closeWith(call: CallScope | undefined): void {
    this.call = call
  }

  /**
   * The stream's fiber exits: the call's scope closes first (its record is written), unless the
   * call was handed over to run on without the fiber (`closeWith(undefined)`); then rejected
   * sockets are closed as such, anything unexpected as an internal error.
   */
  finish(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> {
    const call = this.call
    if (call === undefined) return this.report(exit)
    this.call = undefined
    return Effect.zipRight(call.close(exit), Effect.suspend(() => this.report(exit)))
  }

  private report(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> {
    this.settle()
    if (Exit.isSuccess(exit)) return Effect.void
    // Interrupted (shutdown): a held call's closing has closed its socket; one interrupted before
    // it was held (its token still being spent) is closed here, or the server waits for it.
    if (Cause.isInterrupted(exit.cause)) return Effect.sync(() => this.twilio.close(CLOSE_GOING_AWAY, "service shutting down"))
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure) && failure.value instanceof StreamClosed) return Effect.void
    if (Option.isSome(failure) && failure.value instanceof StreamRejected) {
      const rejected = failure.value
      return Effect.sync(() => this.twilio.close(CLOSE_UNAUTHENTICATED, rejected.message)).pipe(
        Effect.zipRight(Effect.logInfo("media stream rejected", rejected.message))
      )
    }
    return Effect.sync(() => this.twilio.close(CLOSE_INTERNAL_ERROR, "internal error")).pipe(
      Effect.zipRight(Effect.logError("media stream failed", exit.cause))
    )
  }
}
