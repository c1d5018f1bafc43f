import {
  Clock,
  Context,
  Effect,
  FiberRef,
  Option,
  Redacted,
  Scope,
  Tracer
} from "effect"
import { CallTelemetry } from "../Observability/CallTelemetry.js"
import { linkFrom } from "../Observability/TraceContext.js"
import { VersionResolution } from "../Agents/VersionResolution.js"
import { FunctionRegistry } from "../Tools/FunctionRegistry.js"
import { CallRecords } from "../CallLogs/CallRecords.js"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"
import { readFirst as retryingRead } from "./FirstTry.js"
import { AppConfig } from "../Config.js"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { CallEvents } from "../LiveLogs/CallEvents.js"
import { LiveLogs } from "../LiveLogs/LiveLogs.js"
import { type BootstrapHandler, type StreamEnd, StreamRejected } from "./Bootstrap.js"
import { OpenedCall, type ParkedCalls } from "./CallClosing.js"
import { Bridge } from "./Bridge.js"
import { type CallIdentity, TOKEN_UNCHECKED } from "./CallIdentity.js"
import { callAnnotations, CallFibers, type Fork } from "./CallFibers.js"
import { MediaConfig } from "./MediaConfig.js"
import { realtimeUrl } from "./RealtimeSocket.js"
import { SpareUpstreams } from "./SpareUpstreams.js"
import { agentSettings, sessionPlan } from "./SessionPlan.js"
import { unansweredInstruction } from "../Transfers/Texts.js"
import type { TwilioSocket } from "./TwilioSocket.js"
import { AudioProviders } from "../Voices/AudioProviders.js"
import { ElevenLabsConfig } from "../Voices/Config.js"
import { ElevenLabsVoice } from "../Voices/ElevenLabsVoice.js"
import { CallMonitor, monitorServices } from "../Monitoring/CallMonitor.js"
import { Deadlines } from "./Deadlines.js"
import { type CallForkServices, LiveCall } from "./LiveCall.js"

/** The call span's own services: none. Without it each span makes (and keeps) an empty Context of its own. */
const NO_SPAN_SERVICES = Context.empty()

// Made at module level, so that each closure a call keeps holds the call object and nothing
// of the function it was made in.
const reachMaxDuration = (call: LiveCall) => call.bridge.finish("max_duration", null)
// The calls' max-duration deadlines, one timer per limit: shared by every MediaStreams with that limit.
const maxDurations = new Map<number, Deadlines<LiveCall>>()
const maxDurationOf = (limitMs: number) => {
  let deadlines = maxDurations.get(limitMs)
  if (deadlines === undefined) maxDurations.set(limitMs, deadlines = new Deadlines(limitMs, reachMaxDuration))
  return deadlines
}

/**
 * What a call's set-up uses, resolved once when MediaStreams is built: reading each service
 * from the fiber's context per call (two runtime operations each) and providing the call's scope
 * and span to the set-up (a context copy, 17 operations) was a third of a set-up's operations.
 */
export const callSetUpServices = Effect.all({
  config: AppConfig,
  media: MediaConfig,
  tenants: TenantCache,
  versions: VersionResolution,
  functions: FunctionRegistry,
  audioProviders: AudioProviders,
  elevenLabs: ElevenLabsConfig,
  records: CallRecords,
  liveCalls: LiveCalls,
  liveLogs: LiveLogs,
  monitors: monitorServices,
  spares: SpareUpstreams
})
export type CallSetUpServices = Effect.Effect.Success<typeof callSetUpServices>

/**
 * Untraced, a call's span is a no-op span with no call data in it: one is made and shared by
 * every call. Effect makes a new one per span, with a Context and Map of its own (~0.3 KB per
 * live call).
 */
let untracedSpan: Tracer.Span | undefined

/** The call's span: its own trace (the media socket is untraced), linked to the webhook that set the call up. */
const callSpan = (id: CallIdentity, traced: boolean): Effect.Effect<Tracer.Span> => {
  if (!traced && untracedSpan !== undefined) return Effect.succeed(untracedSpan)
  // No stack trace captured for it: an Error kept per call for the span's failure attribute.
  const made = Effect.makeSpan("media.call", {
    kind: "server",
    root: true,
    attributes: { "call.sid": id.callSid ?? "", "stream.sid": id.streamSid, "tenant.id": id.tenantId, direction: id.direction },
    links: Option.toArray(linkFrom(id.traceparent)),
    captureStackTrace: false,
    context: NO_SPAN_SERVICES
  })
  return traced ? made : Effect.tap(made, (span) => {
    untracedSpan = span
  })
}

/** The call's span and background fibers, made before anything else of the call. */
const openCall = (id: CallIdentity, fork: Fork<CallForkServices>): Effect.Effect<OpenedCall> =>
  Effect.withFiberRuntime<OpenedCall>((fiber) => {
    const traced = fiber.getFiberRef(FiberRef.currentTracerEnabled)
    return Effect.flatMap(callSpan(id, traced), (span) => {
      const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
      const timing = fiber.getFiberRef(FiberRef.currentTracerTimingEnabled)
      const base = fiber.getFiberRef(FiberRef.currentLogAnnotations)
      const opened = new OpenedCall(span, clock, new CallFibers(fork, span, base, id, traced), traced, timing)
      // Set once on the set-up's fiber (it ends with the set-up), not an `annotateLogs` region on its stack.
      return Effect.as(FiberRef.set(FiberRef.currentLogAnnotations, callAnnotations(base, id)), opened)
    })
  })


/**
 * The call's set-up (with the span as parent while tracing is on): reads what it needs, builds
 * the bridge, registers the call (its way out kept by `opened`) and starts it.
 */
const setUp = (twilio: TwilioSocket, boot: BootstrapHandler, id: CallIdentity, startAt: number, opened: OpenedCall, services: CallSetUpServices) =>
  Effect.gen(function*() {
    const { config, media } = services
    // A call is already on the line: what it needs to start is read through a database blink.
    // A cached tenant is a map read (plain code), as for the webhook.
    const cached = services.tenants.recall(id.tenantId, opened.clock.unsafeCurrentTimeMillis())
    const found = cached ?? (yield* retryingRead(services.tenants.get(id.tenantId), "5 seconds"))
    if (Option.isNone(found)) return yield* new StreamRejected({ message: `unknown tenant ${id.tenantId}` })
    const tenant = found.value
    // The webhook has just resolved this version: a cached one is a map read, not a read effect built and run.
    const version = id.agentVersionId === null
      ? Option.none()
      : services.versions.byIdCached(id.tenantId, id.agentVersionId) ??
        (yield* retryingRead(services.versions.byId(id.tenantId, id.agentVersionId), "5 seconds"))
    if (id.agentVersionId !== null && Option.isNone(version)) {
      yield* Effect.logWarning("agent version not found for this tenant; using the tenant's defaults (not stored)")
    }
    // Only a version of this tenant's is stored on the call's record and ledger row.
    const agentVersionId = Option.isSome(version) ? id.agentVersionId : null
    const tools = yield* services.functions.definitions(tenant.config)
    const settings = agentSettings(tenant.config, Option.getOrUndefined(version), config.openaiRealtimeModel, id.greeting, id.agentName ?? null)

    // ElevenLabs speaks for the call when the tenant asks for it and it can; else the model does.
    const audioProviders = services.audioProviders
    const voiceChoice = yield* audioProviders.forCall(tenant.config)
    const voice = voiceChoice.target === undefined ? undefined : new ElevenLabsVoice(voiceChoice.target, services.elevenLabs)
    // The only part of a call with a release of its own: the call's scope is made for it.
    const voiceUsage = voice === undefined ? undefined : yield* Scope.extend(audioProviders.speaking(id.tenantId), yield* opened.extended)
    if (voiceChoice.fallbackReason !== null) {
      yield* Effect.logWarning("the tenant's ElevenLabs voice is not usable; this call speaks with OpenAI audio").pipe(
        Effect.annotateLogs({ fallback_reason: voiceChoice.fallbackReason })
      )
    }

    const { clock, span, fibers } = opened
    const startedAtMs = clock.unsafeCurrentTimeMillis()
    const telemetry = new CallTelemetry(id.tenantId, id.direction, startAt, span, clock)
    telemetry.framesUp += boot.audio.length // caller audio that arrived before `start`, relayed once upstream
    const call = new LiveCall({
      id,
      tenantConfig: tenant.config,
      settings,
      tools,
      agentVersionId,
      agentName: id.agentName ?? Option.getOrUndefined(version)?.agentName ?? null,
      startedAtMs,
      apiKey: Option.match(config.openaiApiKey, { onNone: () => "", onSome: Redacted.value }),
      url: realtimeUrl(config.openaiBaseUrl, settings.model),
      media,
      spares: services.spares,
      records: services.records,
      voice,
      voiceUsage
    }, twilio, telemetry, new CallEvents(services.liveLogs, id, clock), clock, fibers)

    const bridge = new Bridge(twilio, sessionPlan(settings, tools, voice === undefined ? "audio" : "text"), call, boot.audio)
    call.bridge = bridge
    if (voice !== undefined) bridge.speakWith(voice)
    twilio.handler = bridge
    bridge.recorder.onEntry = call.live
    if (boot.endedEarly !== undefined) bridge.finish(boot.endedEarly, null)
    // Back from a transfer nobody answered: the agent is told, and offers a callback.
    if (id.transferResult != null) bridge.inject(unansweredInstruction(id.transferResult))

    // Listen-only legs (a supervisor's monitor): found by legs once the call is held, closed
    // and hung up after the record (LiveCall.close).
    call.monitor = new CallMonitor(id, tenant.config, bridge, services.monitors)
    // Held, the call's way out is the opened call's `leaving`, run by its closing: the call's own
    // closing (LiveCall.close: both sockets, then the record with the ledger row's delete in the
    // same statement, then the monitor), then the call stops taking commands and leaves
    // LiveCalls; not recorded, its ledger row stays for a reaper (as after a crash).
    // The upstream opens now, while the token is spent, and is spoken to as soon as it is open
    // (the session, the greeting's request, the caller's audio): the spend's round trip is not
    // on the way to the model's first words. The model is not heard (nothing reaches the
    // caller, no tool runs) until the call is held (`admitted`); a replay's set-up fails, its
    // upstream is closed unheard and its socket closed as before.
    call.openUpstream()
    // With the call's stream token still to spend, `holdFor` spends it with the ledger row (one
    // statement) before the call is registered, takes commands or is heard: a replay ends here.
    // The bootstrap deadline bounded the wait for an authenticated `start`, not this (nor the
    // reads above, which retry through a database blink as before); the set-up counts among
    // those in flight (SetupLoad) until it is done (`boot.settle`).
    // The ledger row's delete and the mark that it committed are made from the holding when the
    // call closes (it is given to LiveCall.close), not kept as a statement for the call's length.
    // The ledger row is the call's (LiveCall.ledgerRow), made when it is written.
    const holding = yield* services.liveCalls.holdFor(opened, call, id.tokenUse).pipe(
      Effect.catchTags({
        InvalidStreamToken: (error) => Effect.fail(new StreamRejected({ message: error.message })),
        DatabaseUnavailable: () => Effect.fail(new StreamRejected({ message: TOKEN_UNCHECKED }))
      })
    )
    // After the call's way out is in place (holdFor's): an interruption cannot leave it registered.
    call.monitor.register()
    boot.settle()
    telemetry.started()
    // Before the model is heard: what it said meanwhile is logged after the call's start.
    call.live.started({ direction: id.direction, from: id.from, to: id.to, agent_version_id: agentVersionId, model: settings.model })

    call.admitted()
    yield* holding.publish
    // A deadline on a timer all calls share, not a fiber or a timer per call; cleared when the call closes.
    call.maxDuration = maxDurationOf(Math.min(media.maxCallSeconds * 1000, 2 ** 31 - 1))
    call.maxDuration.set(call)
    return call
  })

/**
 * One live call, closed once (OpenedCall.close): the upstream socket(s), the timers, the tool
 * fibers, the LiveCalls entry (with the way commands reach it) and the call record all end with
 * it. Whatever ends the call (stop, hang-up, the agent, max duration, upstream failure, an `End`
 * command, shutdown), its closing closes both sockets and writes the record exactly once.
 *
 * The set-up runs on the stream's fiber; a set-up that fails closes the call through the
 * stream's exit handler (`end`). Once set up, the call is handed to `calls` and the fiber ends:
 * the call runs on as callbacks, and its end (or shutdown) closes it (CallClosing.ts). The
 * closing ends the call's span last, the parent of what the set-up, the background fibers and
 * the closing do.
 */
export const runCall = (
  twilio: TwilioSocket,
  boot: BootstrapHandler,
  id: CallIdentity,
  startAt: number,
  fork: Fork<CallForkServices>,
  services: CallSetUpServices,
  end: StreamEnd,
  calls: ParkedCalls
) =>
  Effect.flatMap(openCall(id, fork), (opened) => {
    end.closeWith(opened)
    const settingUp = setUp(twilio, boot, id, startAt, opened, services)
    // Traced, what the set-up does (reads, the ledger's statement) are the call span's children.
    return Effect.map(opened.traced ? Effect.provideService(settingUp, Tracer.ParentSpan, opened.span) : settingUp, (call) => {
      // One step with the hand-over: the call is closed by the stream's exit or by its own closing, never both.
      end.closeWith(undefined)
      calls.park(call, opened)
    })
  })
