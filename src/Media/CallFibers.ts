import { Effect, Fiber, FiberRef, HashMap, type Tracer } from "effect"
import type { CallIdentity } from "./CallIdentity.js"

/** What a call's log lines name it by. */
export type LoggedCall = Pick<CallIdentity, "tenantId" | "streamSid" | "callSid">

/**
 * The call's log annotations (tenant, stream, call) over `base` (the runtime's): one copy of the
 * map with the three set in it, not a copy per key (made once per call set-up).
 */
export const callAnnotations = (base: HashMap.HashMap<string, unknown>, id: LoggedCall) =>
  HashMap.mutate(base, (annotations) => {
    HashMap.set(annotations, "tenant_id", id.tenantId)
    HashMap.set(annotations, "stream_sid", id.streamSid)
    HashMap.set(annotations, "call_sid", id.callSid ?? "")
  })

/** Forks an effect onto a runtime shared by every call (MediaStreams). */
export type Fork<R> = <A, E>(effect: Effect.Effect<A, E, R>) => Fiber.RuntimeFiber<A, E>

/**
 * A call's background work (the upstream's opening, tools, the hang-up timer, warnings): fibers
 * forked onto the service's shared runtime, each with the call's span as its parent and the
 * call's log annotations, and interrupted when the call's scope closes. A per-call
 * `FiberSet.makeRuntime` did the same with a runtime of its own (a copy of the fiber's
 * references and a fiber set) kept for the call's whole length.
 */
export class CallFibers<R> {
  /** Made with the first fork: most calls fork only to open the upstream. */
  private fibers: Set<Fiber.RuntimeFiber<unknown, unknown>> | undefined = undefined
  /** Plain work in flight (an upstream's opening while untraced): cancelled with the fibers. */
  private cancels: Set<() => void> | undefined = undefined
  private closed = false

  constructor(
    private readonly fork: Fork<R>,
    private readonly span: Tracer.AnySpan,
    /** The runtime's log annotations (shared by every call), under the call's own. */
    private readonly baseAnnotations: HashMap.HashMap<string, unknown>,
    private readonly id: LoggedCall,
    /** Tracing is on for the call: work with a span of its own runs as a fiber (`run`), else as plain code. */
    readonly traced: boolean
  ) {}

  /**
   * The call's log annotations, for its background work and its closing: made when a fiber
   * needs them, not kept as a HashMap for the call's length (~0.5 KB per live call).
   */
  get annotations(): HashMap.HashMap<string, unknown> {
    return callAnnotations(this.baseAnnotations, this.id)
  }

  /** Whether the call has ended: nothing more is started. */
  get ended(): boolean {
    return this.closed
  }

  /** Plain work started for the call (its cancel): cancelled if the call ends before `untrack`. */
  track(cancel: () => void): void {
    if (this.closed) return cancel()
    ;(this.cancels ??= new Set()).add(cancel)
  }

  untrack(cancel: () => void): void {
    const cancels = this.cancels
    // Emptied (the upstream has opened): not kept for the call's length.
    if (cancels !== undefined && cancels.delete(cancel) && cancels.size === 0) this.cancels = undefined
  }

  /** Starts `effect` unless the call has ended (then nothing runs, as with a closed FiberSet). */
  run<A, E>(effect: Effect.Effect<A, E, R>): void {
    if (this.closed) return
    const fiber = this.fork(
      Effect.locally(Effect.withParentSpan(effect, this.span), FiberRef.currentLogAnnotations, this.annotations)
    ) as Fiber.RuntimeFiber<unknown, unknown>
    const fibers = this.fibers ??= new Set()
    fibers.add(fiber)
    fiber.addObserver(() => fibers.delete(fiber))
  }

  /** Interrupts what still runs and waits for it; nothing is started afterwards. */
  interruptAll(): Effect.Effect<void> {
    this.closed = true
    if (this.cancels !== undefined) {
      for (const cancel of this.cancels) cancel()
      this.cancels.clear()
    }
    const fibers = this.fibers
    return fibers === undefined || fibers.size === 0 ? Effect.void : Fiber.interruptAll(fibers)
  }
}
