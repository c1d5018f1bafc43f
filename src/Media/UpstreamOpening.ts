import { Cause, Effect } from "effect"
import type { CallTelemetry } from "../Observability/CallTelemetry.js"
import type { Bridge } from "./Bridge.js"
import type { CallFibers } from "./CallFibers.js"
import type { CallForkServices, CallPlan } from "./LiveCall.js"
import { connectRealtime, openRealtime, RealtimeSocket, UpstreamUnavailable } from "./RealtimeSocket.js"

/** What an opening needs of its call (LiveCall). */
export interface UpstreamCall {
  now(): number
  readonly bridge: Bridge
  readonly telemetry: CallTelemetry
}

/**
 * A call's upstream socket, from its opening to the bridge: a spare taken (SpareUpstreams) or
 * one opened, handed to the bridge at once to be spoken to but heard only once the call is
 * held (its stream token spent, its ledger row in); a failure is told only then. One per call,
 * made with it.
 */
export class UpstreamOpening {
  /** The call is held: the model is heard (its output reaches the call) and failures are told. */
  private held = false
  /** An upstream that opened (spoken to, not heard) or failed before the call was held: see `admitted`. */
  private waiting: Parked | undefined = undefined

  constructor(
    private readonly plan: CallPlan,
    private readonly fibers: CallFibers<CallForkServices>,
    private readonly call: UpstreamCall
  ) {}

  /**
   * Takes a spare upstream if one is ready (no connect: it opened before the call), else opens
   * one, and hands it to the bridge (or tells it that it failed). Untraced,
   * as plain code: a fiber forked for it, with the span `Effect.withSpan` makes and the context
   * copies it and the call's log annotations take, was ~110 runtime operations and most of a
   * call set-up's own allocation (bench/RESULTS.md). Traced, a fiber with its
   * `openai.realtime.connect` span, a child of the call's.
   */
  open(): void {
    const { apiKey, url, media } = this.plan
    if (this.fibers.ended) return
    // Traced too: a spare has no opening of its own to span; its event says `spare`.
    const spare = this.plan.spares.take(url)
    if (spare !== undefined) return this.opened(spare, this.call.now(), true)
    if (this.fibers.traced || apiKey === "") return this.fibers.run(this.openTraced())
    const opening = this.call.now()
    let cancel: () => void
    try {
      cancel = connectRealtime(url, apiKey, media.upstreamConnectTimeoutMs, (result) => {
        this.fibers.untrack(cancel)
        try {
          if (result instanceof RealtimeSocket) this.opened(result, opening, false)
          else this.notOpened(result)
        } catch (defect) {
          // What the opening's fiber did with a defect: logged, the process goes on.
          this.fibers.run(Effect.logError("opening the upstream failed", Cause.die(defect)))
        }
      })
    } catch {
      // `ws` refused the URL: the fiber's way, where that is a defect of the opening's own fiber.
      return this.fibers.run(this.openTraced())
    }
    this.fibers.track(cancel)
  }

  /**
   * The call is held: an upstream that opened meanwhile is heard now (what the model said
   * while the token was spent reaches the call, in order), a failure is told; later ones at once.
   */
  admitted(): void {
    this.held = true
    const parked = this.waiting
    if (parked === undefined) return
    this.waiting = undefined
    this.fibers.untrack(parked.close)
    const { result, took, spare } = parked
    if (!(result instanceof RealtimeSocket)) return this.handOver(result, took, spare)
    this.call.telemetry.upstreamConnected(took, spare)
    this.call.bridge.hear(result)
  }

  private openTraced(): Effect.Effect<void> {
    const { apiKey, url, settings, media } = this.plan
    const opening = this.call.now()
    return (apiKey === ""
      ? Effect.fail(new UpstreamUnavailable({ message: "OPENAI_API_KEY is not configured" }))
      : openRealtime(url, apiKey, media.upstreamConnectTimeoutMs)).pipe(
        Effect.withSpan("openai.realtime.connect", { kind: "client", attributes: { model: settings.model } }),
        Effect.match({
          onSuccess: (socket) => this.opened(socket, opening, false),
          onFailure: (error) => this.notOpened(error)
        })
      )
  }

  /** `spare`: taken from SpareUpstreams (the call waited ~0 ms for it). */
  private opened(socket: RealtimeSocket, opening: number, spare: boolean): void {
    const took = this.call.now() - opening
    if (this.held) return this.handOver(socket, took, spare)
    this.park(new Parked(socket, took, spare))
    // The call ended meanwhile: `park` has closed it.
    if (this.fibers.ended) return
    // Spoken to now (the session's opening, the greeting's request, the caller's audio), while
    // the token is spent: the model's first words are on their way when the call is held.
    this.call.bridge.upstreamReady(socket, false)
  }

  private notOpened(error: UpstreamUnavailable): void {
    if (this.held) return this.handOver(error, 0, false)
    this.park(new Parked(error, 0, false))
  }

  /**
   * The upstream opens while the call's stream token is spent (one statement), not after it:
   * until then the bridge speaks to it but does not hear it, and a failure is not told (the
   * caller would hear the apology's `clear`); a set-up that fails (a replayed token) closes it
   * with the call's fibers.
   */
  private park(parked: Parked): void {
    this.waiting = parked
    this.fibers.track(parked.close)
  }

  private handOver(result: RealtimeSocket | UpstreamUnavailable, took: number, spare: boolean): void {
    const { bridge, telemetry } = this.call
    if (result instanceof RealtimeSocket) {
      telemetry.upstreamConnected(took, spare)
      return bridge.upstreamReady(result)
    }
    telemetry.upstreamFailed(this.plan.apiKey === "" ? "not_configured" : "connect")
    bridge.upstreamFailed(result.message)
  }
}

/** An upstream's opening that ended before its call was held (UpstreamOpening.park). */
class Parked {
  constructor(readonly result: RealtimeSocket | UpstreamUnavailable, readonly took: number, readonly spare: boolean) {}

  /** The set-up failed first: the socket (a spare too) is closed, having been heard by no one. */
  readonly close = (): void => {
    if (this.result instanceof RealtimeSocket) this.result.close()
  }
}
