import type { Clock, MetricLabel, Tracer } from "effect"
import type { TurnLatency } from "../Media/CallRecorder.js"
import * as M from "./Metrics.js"

/** Calls whose frame counts have not all been folded into the metrics yet (this process). */
const live = new Set<CallTelemetry>()

/** A tenant's metric labels, shared by its calls. */
interface TenantLabels {
  readonly tenant: ReadonlyArray<MetricLabel.MetricLabel>
  readonly up: ReadonlyArray<MetricLabel.MetricLabel>
  readonly down: ReadonlyArray<MetricLabel.MetricLabel>
  /** The tenant's labels with a call's own (direction, end reason), by their values. */
  readonly withCall: Map<string, ReadonlyArray<MetricLabel.MetricLabel>>
}

/** Label sets per tenant kept for reuse (directions x end reasons is far below this). */
const MAX_CALL_LABEL_SETS = 64

/**
 * The tenant's labels with the call's direction (and end reason), the same array for the same
 * values: an Effect metric finds its series for a label array it has seen by identity (a
 * WeakMap); for a new array it builds a metric key and looks it up by structural equality,
 * which showed in a call set-up's profile (bench/RESULTS.md, stop 37 setcpu).
 */
const withCall = (labels: TenantLabels, direction: string, endReason?: string) => {
  const key = endReason === undefined ? direction : `${direction} ${endReason}`
  const known = labels.withCall.get(key)
  if (known !== undefined) return known
  const made = [...labels.tenant, M.label("direction", direction)]
  if (endReason !== undefined) made.push(M.label("end_reason", endReason))
  if (labels.withCall.size < MAX_CALL_LABEL_SETS) labels.withCall.set(key, made)
  return made
}

/**
 * Made once per tenant, not per call (three labels and three arrays a live call kept). The
 * metric registry keeps a key per tenant for good anyway, so this grows no further than it.
 */
const labelsByTenant = new Map<string, TenantLabels>()

const labelsOf = (tenantId: string): TenantLabels => {
  let labels = labelsByTenant.get(tenantId)
  if (labels === undefined) {
    const tenant = [M.label("tenant", tenantId)]
    labels = {
      tenant,
      up: [...tenant, M.label("direction", "caller_to_model")],
      down: [...tenant, M.label("direction", "model_to_caller")],
      withCall: new Map()
    }
    labelsByTenant.set(tenantId, labels)
  }
  return labels
}

export type UpstreamFailureKind = "connect" | "lost" | "not_configured"
export type ToolOutcomeLabel = "ok" | "error" | "timeout"

/**
 * What one call reports: metrics (labelled by tenant, never by SID) and events on the call's
 * span. Everything here is synchronous and called from the bridge's callbacks. Per frame the
 * bridge only bumps a plain field (`framesUp`...); `flush` folds those into the counters
 * (at scrape, on a timer, and when the call ends), so a frame costs one increment.
 * Span events carry no audio, transcript or digits: names, counts and durations only.
 */
export class CallTelemetry {
  framesUp = 0
  framesDown = 0
  droppedUp = 0
  droppedDown = 0
  private readonly labels: TenantLabels
  private firstAudioSent = false
  private open = false

  constructor(
    tenantId: string,
    private readonly direction: string,
    /** When Twilio's `start` arrived (ms). */
    private readonly startedAt: number,
    private readonly span: Tracer.Span | undefined,
    private readonly clock: Clock.Clock
  ) {
    this.labels = labelsOf(tenantId)
  }

  private get tenant(): ReadonlyArray<MetricLabel.MetricLabel> {
    return this.labels.tenant
  }

  started(): void {
    if (this.open) return
    this.open = true
    live.add(this)
    M.callsLive.unsafeModify(1, this.tenant)
    M.callsStarted.unsafeUpdate(1, withCall(this.labels, this.direction))
    this.event("call.start", { direction: this.direction })
  }

  /**
   * Agent audio of a new item went to the caller (the first one is the greeting); `turn` is
   * the latency the call record just took for it, if this audio closed a turn.
   */
  agentAudio(now: number, turn: TurnLatency | undefined): void {
    if (turn?.firstAudioMs != null) M.turnLatency.unsafeUpdate(turn.firstAudioMs, this.tenant)
    if (this.firstAudioSent) return
    this.firstAudioSent = true
    M.startToFirstAudio.unsafeUpdate(now - this.startedAt, this.tenant)
    this.event("call.first_audio", { since_start_ms: now - this.startedAt })
  }

  bargeIn(): void {
    M.bargeIns.unsafeUpdate(1, this.tenant)
    this.event("call.barge_in")
  }

  /** The digit itself stays off spans: callers key in PINs and card numbers. */
  dtmf(): void {
    M.dtmfDigits.unsafeUpdate(1, this.tenant)
    this.event("call.dtmf")
  }

  toolCalled(tool: string, outcome: ToolOutcomeLabel, durationMs: number): void {
    const tags = [...this.tenant, M.label("tool", tool)]
    M.toolCalls.unsafeUpdate(1, [...tags, M.label("outcome", outcome)])
    M.toolDuration.unsafeUpdate(durationMs, tags)
    this.event("call.tool_call", { tool, outcome, duration_ms: durationMs })
  }

  /** `durationMs`: how long the call waited for it; a `spare` opened before the call (~0). */
  upstreamConnected(durationMs: number, spare: boolean): void {
    M.upstreamConnect.unsafeUpdate(durationMs, this.tenant)
    this.event("call.upstream_connected", { duration_ms: durationMs, spare })
  }

  upstreamFailed(kind: UpstreamFailureKind): void {
    M.upstreamFailures.unsafeUpdate(1, [...this.tenant, M.label("kind", kind)])
    this.event("call.upstream_failed", { kind })
  }

  /** The call's ElevenLabs voice failed; OpenAI audio speaks from now on. */
  audioFallback(reason: string): void {
    M.audioFallbacks.unsafeUpdate(1, [...this.tenant, M.label("reason", reason)])
    this.event("call.audio_fallback", { reason })
  }

  reconnecting(): void {
    M.upstreamReconnects.unsafeUpdate(1, this.tenant)
    this.event("call.reconnect")
  }

  ended(reason: string): void {
    if (!this.open) return
    this.open = false
    this.flush()
    live.delete(this)
    M.callsLive.unsafeModify(-1, this.tenant)
    M.callsEnded.unsafeUpdate(1, withCall(this.labels, this.direction, reason))
    this.event("call.end", { end_reason: reason })
  }

  /** Moves the frame counts gathered since the last flush into the counters. */
  flush(): void {
    if (this.framesUp > 0) M.framesRelayed.unsafeUpdate(this.framesUp, this.labels.up)
    if (this.framesDown > 0) M.framesRelayed.unsafeUpdate(this.framesDown, this.labels.down)
    if (this.droppedUp > 0) M.framesDropped.unsafeUpdate(this.droppedUp, this.labels.up)
    if (this.droppedDown > 0) M.framesDropped.unsafeUpdate(this.droppedDown, this.labels.down)
    this.framesUp = this.framesDown = this.droppedUp = this.droppedDown = 0
  }

  private event(name: string, attributes?: Record<string, unknown>): void {
    this.span?.event(name, this.clock.unsafeCurrentTimeNanos(), attributes)
  }
}

/** Folds every live call's frame counts into the counters (before a scrape or an export). */
export const flushFrameCounts = (): void => {
  for (const call of live) call.flush()
}
