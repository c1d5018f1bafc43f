import { type Clock, Effect, Exit, Fiber, FiberRef, Scope, type Tracer } from "effect"
import type { AppConfig } from "../Config.js"
import { withParentSpanWhenTraced } from "../Observability/Spans.js"
import { inBackground } from "../Runtime/Background.js"
import type { TwilioClient } from "../Twilio/Client.js"
import type { Holder, Leaving } from "../LiveCalls/LiveCalls.js"
import type { CallScope } from "./Bootstrap.js"
import type { CallFibers, Fork } from "./CallFibers.js"
import type { CallCloser, CallForkServices, Ending, LiveCall } from "./LiveCall.js"

/**
 * A call's span, clock and background fibers (what its set-up makes first: Call.ts), its way
 * out of LiveCalls and, only for a call that needs one (an ElevenLabs voice's usage), a scope.
 * A scope per call (its finalizer map and entry, a closure and its context) was ~0.4 KB per live
 * call for one finalizer (bench/RESULTS.md).
 */
export class OpenedCall implements CallScope, Holder {
  /** Set when the call is held (LiveCalls.holdFor): its closing, the record, then it leaves. */
  leaving: Leaving | undefined = undefined
  private scope: Scope.CloseableScope | undefined = undefined

  constructor(
    readonly span: Tracer.Span,
    readonly clock: Clock.Clock,
    readonly fibers: CallFibers<CallForkServices>,
    /** Tracing was on when the call started. */
    readonly traced: boolean,
    private readonly timing: boolean
  ) {}

  /** The call's scope, made on first use: what lasts as long as the call and has its own release. */
  get extended(): Effect.Effect<Scope.Scope> {
    return Effect.suspend(() => this.scope === undefined ? Effect.tap(Scope.make(), (scope) => {
      this.scope = scope
    }) : Effect.succeed(this.scope))
  }

  /**
   * Ends the call with `exit`, with the call's span as parent (when traced): its leaving (the
   * call's closing and record, then it leaves LiveCalls), then its scope if it has one, in the
   * order the scope's finalizers ran; then the call's background fibers stop and its span ends,
   * last (a finalizer of its own was a closure, a context and an entry per call).
   */
  close(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> {
    return Effect.ensuring(
      withParentSpanWhenTraced(Effect.suspend(() => this.closing(exit)), this.span),
      Effect.suspend(() => Effect.zipRight(this.fibers.interruptAll(), Effect.sync(() => this.endSpan(exit))))
    )
  }

  private closing(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> {
    const leaving = this.leaving
    const scope = this.scope
    this.leaving = undefined
    this.scope = undefined
    const left = leaving === undefined ? Effect.void : leaving.leave(exit)
    return scope === undefined ? left : Effect.ensuring(left, Scope.close(scope, exit))
  }

  private endSpan(exit: Exit.Exit<unknown, unknown>): void {
    if (this.span.status._tag !== "Ended") this.span.end(this.timing ? this.clock.unsafeCurrentTimeNanos() : BigInt(0), exit)
  }
}

/** What a call's closing needs: Twilio's follow-up after the end (LiveCall.afterEnd). */
type ClosingServices = AppConfig | TwilioClient

/**
 * The calls of this replica past their set-up. A call has no fiber of its own once set up (a
 * fiber parked for the call's length kept ~5 KB per live call: its references, stack and
 * observers, bench/RESULTS.md): it lives as callbacks on its sockets and timers, held by them,
 * by LiveCalls (its commands) and by this registry, through which shutdown ends it.
 */
export class ParkedCalls {
  readonly calls = new Set<ParkedCall>()

  constructor(readonly fork: Fork<ClosingServices>) {}

  /** `call` runs on without its fiber; its end (maybe already come) starts its closing. */
  park(call: LiveCall, opened: OpenedCall): void {
    const parked = new ParkedCall(this, call, opened)
    this.calls.add(parked)
    call.closer = parked
    if (call.ending !== undefined) parked.ended(call.ending)
  }

  /** Ends every call still live as a shutdown does (its record written) and waits for the closings. */
  endAll(): Effect.Effect<void> {
    return Effect.suspend(() =>
      Effect.forEach(Array.from(this.calls), (call) => call.stop(), { concurrency: "unbounded", discard: true })
    )
  }
}

/**
 * One call without a fiber. Its closing is a fiber of its own, started once: by the bridge's
 * end (Twilio's follow-up, then the call's close) or by shutdown (the close with an
 * interruption, as when the call's fiber was interrupted). OpenedCall.close runs the call's
 * leaving once, and only the closing closes it: the record is written exactly once.
 */
class ParkedCall implements CallCloser {
  private closing: Fiber.RuntimeFiber<void> | undefined = undefined

  constructor(
    private readonly registry: ParkedCalls,
    private readonly call: LiveCall,
    private readonly opened: OpenedCall
  ) {}

  ended(ending: Ending): void {
    if (this.closing !== undefined) return
    // Started at once (runFork runs it up to its first wait): the exit handler is in place
    // before anything could interrupt it. Its work then yields to the background scheduler: run
    // here, inside the socket's close callback, 800 hang-ups at once held the loop 70-290 ms in
    // one go, new calls' webhooks and starts waiting behind them (bench/RESULTS.md, stop 38).
    this.closing = this.registry.fork(this.annotated(
      Effect.onExit(
        Effect.zipRight(Effect.yieldNow(), withParentSpanWhenTraced(this.call.afterEnd(ending), this.opened.span)),
        (exit) => this.close(exit)
      )
    ))
  }

  /** Shutdown: a call still live closes as interrupted; one whose follow-up runs has it cut short. */
  stop(): Effect.Effect<void> {
    return Effect.fiberIdWith((stopper) => {
      const closing = this.closing ??= this.registry.fork(this.annotated(Effect.uninterruptible(this.close(Exit.interrupt(stopper)))))
      return Effect.asVoid(Fiber.interrupt(closing))
    })
  }

  private close(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> {
    return Effect.ensuring(this.opened.close(exit), Effect.sync(() => this.registry.calls.delete(this)))
  }

  /**
   * The call's log annotations (tenant, stream, call), as its fiber had them; resumed on the
   * background scheduler, so calls' ends wait for ready set-ups' I/O instead of running before it.
   */
  private annotated<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return inBackground(Effect.locally(effect, FiberRef.currentLogAnnotations, this.opened.fibers.annotations))
  }
}
