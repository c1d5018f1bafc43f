import { Clock, Effect, Exit, Metric, MetricBoundaries, MetricLabel } from "effect"
import { fixedHistogram, perLabels } from "./FixedLabels.js"

/**
 * Every metric the service records, in one place (README, "Metrics", lists them). They are
 * Effect metrics: exported over OTLP by @effect/opentelemetry and rendered at `GET /metrics`
 * (OpenMetrics.ts). Labels: `tenant` where a tenant is known (a tenant count is small),
 * never a call or stream SID; the replica is added by the exporter (`replica` on /metrics).
 * Durations are milliseconds, like `http_server_request_duration_ms`.
 */

const counter = (name: string, description: string) => Metric.counter(name, { description, incremental: true })

/** 5 ms .. ~20 s: set-up steps and upstream connects. */
const SETUP_MS = MetricBoundaries.fromIterable([
  5, 10, 25, 50, 100, 250, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 20000
])
/** Turn latency (caller stops -> first agent audio): fine steps around the 0.5-3 s that matter. */
const TURN_MS = MetricBoundaries.fromIterable([
  100, 200, 300, 400, 500, 600, 800, 1000, 1250, 1500, 2000, 2500, 3000, 4000, 5000, 7500, 10000
])
const TOOL_MS = MetricBoundaries.fromIterable([5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000])

// --- calls -----------------------------------------------------------------------------------
export const callsLive = Metric.gauge("voice_calls_live", { description: "Calls running on this replica now" })
export const callsStarted = counter("voice_calls_started_total", "Calls started (media stream authenticated), by direction")
export const callsEnded = counter("voice_calls_ended_total", "Calls ended, by end reason and direction")

// --- set-up ----------------------------------------------------------------------------------
export const webhookToTwiml = Metric.histogram(
  "voice_setup_webhook_to_twiml_ms",
  SETUP_MS,
  "Voice webhook received -> TwiML answered, by direction"
)
export const upgradeToStart = Metric.histogram(
  "voice_setup_upgrade_to_start_ms",
  SETUP_MS,
  "Media stream upgraded -> Twilio `start` event received"
)
/** The two set-up histograms above per label set, made once (FixedLabels.ts: no key lookup per call). */
export const webhookToTwimlWith = perLabels((labels) =>
  fixedHistogram("voice_setup_webhook_to_twiml_ms", SETUP_MS, "Voice webhook received -> TwiML answered, by direction", labels))
export const upgradeToStartWith = perLabels((labels) =>
  fixedHistogram("voice_setup_upgrade_to_start_ms", SETUP_MS, "Media stream upgraded -> Twilio `start` event received", labels))
export const startToFirstAudio = Metric.histogram(
  "voice_setup_start_to_first_audio_ms",
  SETUP_MS,
  "Twilio `start` -> first greeting audio frame sent to the caller"
)

// --- turns -----------------------------------------------------------------------------------
export const turnLatency = Metric.histogram(
  "voice_turn_latency_ms",
  TURN_MS,
  "Caller stops speaking -> first agent audio frame sent (the call log's first-audio latency)"
)
export const bargeIns = counter("voice_barge_ins_total", "Caller spoke over the agent (agent audio cleared)")
export const dtmfDigits = counter("voice_dtmf_total", "Keypad digits received from callers")

// --- model upstream --------------------------------------------------------------------------
export const upstreamConnect = Metric.histogram(
  "voice_upstream_connect_ms",
  SETUP_MS,
  "Time a call waited for its OpenAI Realtime socket to open (successful connects; 0 when a spare was ready)"
)
export const upstreamSpares = counter(
  "voice_upstream_spares_total",
  "Spare upstream sockets by outcome: used (a call took one), missed (a call found none ready), discarded (closed or spoken on by the server while spare), expired (closed by us: max age, idle, draining)"
)
export const upstreamReconnects = counter("voice_upstream_reconnects_total", "Replacement upstream sockets opened after a failure")
export const audioFallbacks = counter(
  "voice_audio_provider_fallbacks_total",
  "Calls that stopped speaking with ElevenLabs and fell back to OpenAI audio, by reason"
)
export const upstreamFailures = counter(
  "voice_upstream_failures_total",
  "Upstream failures by kind: connect (could not open), lost (closed mid-call), not_configured"
)

// --- tools -----------------------------------------------------------------------------------
export const toolCalls = counter("voice_tool_calls_total", "Tool calls by tool and outcome (ok, error, timeout)")
export const toolDuration = Metric.histogram("voice_tool_call_duration_ms", TOOL_MS, "Tool call duration, by tool")

// --- media frames (counted per call as plain numbers, folded in by CallTelemetry) -----------
export const framesRelayed = counter("voice_media_frames_total", "Audio frames relayed, by direction")
export const framesDropped = counter(
  "voice_media_frames_dropped_total",
  "Audio frames dropped (call ended, or the reply was cancelled by barge-in), by direction"
)

// --- outboxes --------------------------------------------------------------------------------
export const outboxPending = Metric.gauge("voice_outbox_pending", { description: "Rows waiting for delivery, by outbox" })
export const outboxOldestAge = Metric.gauge("voice_outbox_oldest_pending_age_seconds", {
  description: "Age of the oldest pending row, by outbox (0 when empty)"
})
export const outboxDeliveries = counter("voice_outbox_deliveries_total", "Delivery attempts by outcome (delivered, retry, failed)")
export const outboxAttempts = counter("voice_outbox_delivery_attempts_total", "Delivery attempts made (HTTP requests sent)")

// --- sweeps ----------------------------------------------------------------------------------
export const sweepRuns = counter("voice_sweep_runs_total", "Background sweep runs, by sweep and outcome (ok, error)")
export const sweepItems = counter("voice_sweep_items_total", "Items a sweep acted on, by sweep")
export const sweepDuration = Metric.histogram("voice_sweep_duration_ms", TOOL_MS, "Sweep run duration, by sweep")

// --- reports ---------------------------------------------------------------------------------
export const latencyReportCache = counter(
  "voice_latency_report_cache_total",
  "call-logs/latency requests by how this replica answered: hit (kept report), shared (a computation already running), computed"
)

// --- replica -------------------------------------------------------------------------------
export const replicaReady = Metric.gauge("voice_replica_ready", {
  description: "1 when this replica reports ready (GET /health/ready), 0 when not ready or draining"
})

// --- database --------------------------------------------------------------------------------
export const dbPoolInUse = Metric.gauge("voice_db_pool_connections_in_use", { description: "Pool connections checked out" })
export const dbPoolWaiting = Metric.gauge("voice_db_pool_waiting", { description: "Queries waiting for a pool connection" })

export const label = MetricLabel.make

/**
 * For the outbox delivery worker: one delivery attempt of `outbox` and what became of it.
 * `delivered` (2xx), `retry` (will be tried again) or `failed` (given up).
 */
export const recordDelivery = (outbox: string, outcome: "delivered" | "retry" | "failed") => {
  outboxAttempts.unsafeUpdate(1, [label("outbox", outbox)])
  outboxDeliveries.unsafeUpdate(1, [label("outbox", outbox), label("outcome", outcome)])
}

const reportCacheResults = {
  hit: [MetricLabel.make("result", "hit")],
  shared: [MetricLabel.make("result", "shared")],
  computed: [MetricLabel.make("result", "computed")]
}

/** For the latency report cache: how one request was answered. */
export const recordLatencyReportCache = (result: keyof typeof reportCacheResults) =>
  latencyReportCache.unsafeUpdate(1, reportCacheResults[result])

/** For a sweep: one run, how many items it acted on, how long it took. */
export const recordSweep = (sweep: string, outcome: "ok" | "error", items: number, durationMs: number) => {
  const tags = [label("sweep", sweep)]
  sweepRuns.unsafeUpdate(1, [...tags, label("outcome", outcome)])
  if (items > 0) sweepItems.unsafeUpdate(items, tags)
  sweepDuration.unsafeUpdate(durationMs, tags)
}

/** Records a run of `effect` as a run of `sweep` (items from its result); an interrupted run is not a run. */
export const measureSweep = <A>(sweep: string, itemsOf: (result: A) => number) =>
<E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Clock.currentTimeMillis, (started) =>
    Effect.onExit(effect, (exit) =>
      Exit.isInterrupted(exit) ? Effect.void : Effect.map(Clock.currentTimeMillis, (now) =>
        Exit.isSuccess(exit)
          ? recordSweep(sweep, "ok", itemsOf(exit.value), now - started)
          : recordSweep(sweep, "error", 0, now - started))))

// --- cost and abuse limits (docs/limits.md) --------------------------------------------------
export const limitRefusals = counter(
  "voice_limit_refusals_total",
  "Calls or messages a cost/abuse limit refused, by tenant, reason and kind (outbound_call, inbound_call, sms)"
)
