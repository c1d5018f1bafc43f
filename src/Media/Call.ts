import { twilioCallSid } from "../CallLogs/CallKey.js"
import {
  Cause,
  type Clock,
  Context,
  Effect,
  Exit,
  FiberRef,
  HashMap,
  Option,
  Redacted,
  Scope,
  Tracer
} from "effect"
import { CallTelemetry } from "../Observability/CallTelemetry.js"
import { linkFrom } from "../Observability/TraceContext.js"
import { VersionResolution } from "../Agents/VersionResolution.js"
import { FunctionRegistry, type ToolContext, type ToolDefinition } from "../Tools/FunctionRegistry.js"
import { CallRecords, type CompletedCall } from "../CallLogs/CallRecords.js"
import type { StatementPart } from "../Database/StatementParts.js"
import { LiveCalls, type ApplyCommand } from "../LiveCalls/LiveCalls.js"
import type { CallCommand, CommandResult } from "../LiveCalls/Domain.js"
import { readFirst as retryingRead, writeFirst as retryingWrite } from "./FirstTry.js"
import { AppConfig } from "../Config.js"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { CallEvents } from "../LiveLogs/CallEvents.js"
import { LiveLogs } from "../LiveLogs/LiveLogs.js"
import { type BootstrapHandler, type CallScope, StreamRejected } from "./Bootstrap.js"
import { Bridge, type BridgeHooks, type EndReason } from "./Bridge.js"
import { TRANSCRIPT_MAX_CHARS } from "./CallRecorder.js"
import { type CallIdentity, TOKEN_UNCHECKED } from "./CallIdentity.js"
import { CallFibers, type Fork } from "./CallFibers.js"
import { apologise } from "./Apology.js"
import { hangUp } from "./HangUp.js"
import { applyCommand } from "./Commands.js"
import { MediaConfig } from "./MediaConfig.js"
import { openRealtime, realtimeUrl, UpstreamUnavailable } from "./RealtimeSocket.js"
import { type AgentSettings, agentSettings, sessionPlan } from "./SessionPlan.js"
import { runTool, type ToolRun } from "./ToolRunner.js"
import { onScopeClose } from "./ScopeFinalizer.js"
import { unansweredInstruction } from "../Transfers/Texts.js"
import type { TwilioSocket } from "./TwilioSocket.js"
import type { TenantConfig } from "../Tenants/Config.js"
import type { TwilioClient } from "../Twilio/Client.js"
import { AudioProviders } from "../Voices/AudioProviders.js"
import { ElevenLabsConfig } from "../Voices/Config.js"
import { ElevenLabsVoice } from "../Voices/ElevenLabsVoice.js"
import { makeCallMonitor } from "../Monitoring/CallMonitor.js"

/** What a call's background fibers (tools, the upstream's opening) need. */
export type CallForkServices = MediaConfig | FunctionRegistry

interface Ending {
  readonly reason: EndReason
  readonly message: string | null
}

type Monitor = Effect.Effect.Success<ReturnType<typeof makeCallMonitor>>

/** What the set-up read and decided, kept by the call for its length. */
interface CallPlan {
  readonly id: CallIdentity
  readonly tenantConfig: TenantConfig
  readonly settings: AgentSettings
  readonly tools: ReadonlyArray<ToolDefinition>
  readonly agentVersionId: string | null
  readonly startedAt: Date
  readonly apiKey: string
  readonly url: string
  readonly media: MediaConfig
  readonly records: CallRecords
  readonly voice: ElevenLabsVoice | undefined
  readonly voiceUsage: { readonly fellBack: () => void } | undefined
}

/**
 * One live call: its state and everything its bridge asks of it (`BridgeHooks`), its commands
 * and its end, as one object with methods. A call keeps this for its whole length, where a
 * closure per hook, callback and finalizer (each with the context of the function it was made
 * in) kept ~120 closures and contexts per call (bench/RESULTS.md, "Per-call memory").
 */
class LiveCall implements BridgeHooks {
  bridge!: Bridge
  monitor!: Monitor
  /** The ledger row's delete (a part of the record's statement) and the mark that it committed (LiveCalls.hold). */
  leaving!: StatementPart
  recorded: Effect.Effect<void> = Effect.void
  maxDuration: ReturnType<typeof setTimeout> | undefined = undefined
  /** Set once, when the bridge ends the call. */
  ending: Ending | undefined = undefined
  /** The call's fiber, waiting for the end (`over`). */
  private waiting: ((ending: Effect.Effect<Ending>) => void) | undefined = undefined
  spokenBy: string

  constructor(
    private readonly plan: CallPlan,
    private readonly twilio: TwilioSocket,
    readonly telemetry: CallTelemetry,
    readonly live: CallEvents,
    private readonly clock: Clock.Clock,
    private readonly fibers: CallFibers<CallForkServices>
  ) {
    this.spokenBy = plan.voice === undefined ? plan.settings.voice : `elevenlabs:${plan.voice.target.voiceId}`
  }

  // --- BridgeHooks -------------------------------------------------------------------------

  now(): number {
    return this.clock.unsafeCurrentTimeMillis()
  }

  runTool(callId: string, name: string, args: string): void {
    this.fibers.run(Effect.flatMap(
      runTool(name, args, this.toolContext(), this.plan.media.toolTimeoutMs),
      (result) => Effect.sync(() => this.toolDone(callId, name, result))
    ))
  }

  reconnect(): void {
    this.telemetry.reconnecting()
    this.fibers.run(this.openUpstream())
  }

  hangupSoon(): void {
    this.fibers.run(Effect.delay(Effect.sync(() => this.bridge.finishAction()), this.plan.media.hangupGraceMs))
  }

  ended(reason: EndReason, message: string | null): void {
    const ending = { reason, message }
    this.ending = ending
    const waiting = this.waiting
    this.waiting = undefined
    waiting?.(Effect.succeed(ending))
  }

  warn(message: string): void {
    this.live.error(message)
    this.fibers.run(Effect.logWarning(message))
  }

  voiceFellBack(reason: string): void {
    this.spokenBy = this.plan.settings.voice
    this.plan.voiceUsage?.fellBack()
    this.telemetry.audioFallback("elevenlabs_failed")
    this.fibers.run(Effect.logWarning(`ElevenLabs failed mid-call, OpenAI audio from now on: ${reason}`).pipe(
      Effect.annotateLogs({ fallback_reason: "elevenlabs_failed" })
    ))
  }

  // --- the call's own work -----------------------------------------------------------------

  /** Opens an upstream socket and hands it to the bridge (or tells it that it failed). */
  openUpstream(): Effect.Effect<void> {
    const { apiKey, url, settings, media } = this.plan
    const opening = this.now()
    return (apiKey === ""
      ? Effect.fail(new UpstreamUnavailable({ message: "OPENAI_API_KEY is not configured" }))
      : openRealtime(url, apiKey, media.upstreamConnectTimeoutMs)).pipe(
        Effect.withSpan("openai.realtime.connect", { kind: "client", attributes: { model: settings.model } }),
        Effect.match({
          onSuccess: (socket) => {
            this.telemetry.upstreamConnected(this.now() - opening)
            this.bridge.upstreamReady(socket)
          },
          onFailure: (error) => {
            this.telemetry.upstreamFailed(apiKey === "" ? "not_configured" : "connect")
            this.bridge.upstreamFailed(error.message)
          }
        })
      )
  }

  /**
   * Waits for the bridge to end the call (at once if it has). A bare `async` with nothing to
   * cancel: `Deferred.await` would keep an interruption handler (three stack frames, a joiner
   * list and closures) on the call's fiber for its whole length. Interrupting the wait needs
   * nothing undone: the call's scope closes either way.
   */
  over(): Effect.Effect<Ending> {
    return Effect.async<Ending>((resume) => {
      if (this.ending !== undefined) resume(Effect.succeed(this.ending))
      else this.waiting = resume
    })
  }

  /** A command from outside (LiveCalls): a listen-only leg is dialled, the rest go to the bridge. */
  apply(command: CallCommand): CommandResult | Effect.Effect<CommandResult> {
    return command._tag === "Listen" ? this.monitor.dial(command) : applyCommand(this.bridge, command)
  }

  /** After the call ended: Twilio says the apology, or hangs up a call ended by a command. */
  afterEnd(outcome: Ending): Effect.Effect<void, never, AppConfig | TwilioClient> {
    // A browser test call has no Twilio call behind it (null here): closing its socket ends it.
    if (outcome.reason === "upstream_failure") return apologise(this.plan.tenantConfig, twilioCallSid(this.plan.id))
    if (outcome.reason === "ended_by_command") return hangUp(this.plan.tenantConfig, twilioCallSid(this.plan.id))
    return Effect.void
  }

  /**
   * The call's scope closes: the max-duration timer is cleared, both sockets are closed, then
   * the record is written with the ledger row's delete in the same statement (exactly once:
   * a scope runs a finalizer once).
   */
  close(exit: Exit.Exit<unknown, unknown>): Effect.Effect<void> {
    clearTimeout(this.maxDuration)
    this.plan.voice?.close()
    this.bridge.currentUpstream?.close()
    this.twilio.close(1000, "call ended")
    return this.record(exit).pipe(
      Effect.zipRight(this.recorded),
      Effect.catchAllCause((cause) => Effect.logError("call record not written", cause))
    )
  }

  private record(exit: Exit.Exit<unknown, unknown>) {
    const { id, settings, startedAt, media } = this.plan
    const bridge = this.bridge
    const final: Ending = this.ending ?? {
      reason: "error",
      message: Exit.isFailure(exit) && !Exit.isInterrupted(exit)
        ? Cause.pretty(exit.cause)
        : "the service stopped during the call"
    }
    const call: CompletedCall = {
      tenantId: id.tenantId,
      streamSid: id.streamSid,
      callSid: id.callSid,
      direction: id.direction,
      from: id.from,
      to: id.to,
      agentVersionId: this.plan.agentVersionId,
      model: settings.model,
      voice: this.spokenBy,
      startedAt,
      endedAt: new Date(this.now()),
      endReason: finalReason(final, bridge),
      errorMessage: final.message,
      transcript: bridge.recorder.transcript,
      functionCalls: bridge.recorder.functionCalls,
      turnLatencies: bridge.recorder.turnLatencies,
      // A transfer is an escalation once the person answers (EscalateCall.escalated marks the log).
      escalated: false,
      escalationReason: null,
      systemPromptKey: settings.systemPromptKey
    }
    this.telemetry.ended(call.endReason)
    this.live.ended(call.endReason, call.errorMessage, Math.round((call.endedAt.getTime() - startedAt.getTime()) / 1000))
    // The record and the ledger row's delete are one statement: both commit, or neither. Any
    // failure (a lost connection whose ROLLBACK fails too is a defect) is retried; past the
    // budget the ledger row stays and a reaper records the call (LiveCalls.hold).
    const omitted = bridge.recorder.omittedChars
    return retryingWrite(this.plan.records.recordCompletedCall(call, [this.leaving]), `${media.recordRetrySeconds} seconds`).pipe(
      Effect.tap(() => Effect.logInfo("call ended").pipe(Effect.annotateLogs({ end_reason: call.endReason }))),
      Effect.tap(() =>
        omitted === 0 ? Effect.void : Effect.logWarning(
          `the transcript passed ${TRANSCRIPT_MAX_CHARS} characters: the record keeps the first ones, ${omitted} more were streamed live only`
        )
      )
    )
  }

  /** Built per tool run: the call keeps no closure for the transcript. */
  private toolContext(): ToolContext {
    const { id, tenantConfig } = this.plan
    const recorder = this.bridge.recorder
    return {
      tenantId: id.tenantId,
      tenantConfig,
      // The AI's transfer tool acts on the Twilio call: none behind a console test call.
      callSid: twilioCallSid(id),
      streamSid: id.streamSid,
      customerPhone: id.direction === "inbound" ? id.from : id.to,
      transcript: () => recorder.transcript
    }
  }

  private toolDone(callId: string, name: string, result: ToolRun): void {
    const label = this.plan.tools.some((tool) => tool.name === name) ? name : "unknown"
    this.telemetry.toolCalled(label, result.outcome, result.entry.durationMs)
    this.bridge.recorder.toolCalled(result.entry)
    this.live.toolCalled(result.entry, result.outcome)
    this.bridge.toolFinished(callId, result.output, result.action)
  }
}

/** A stream that stopped right after the agent's action was taken ended because of it. */
const finalReason = (ending: Ending, bridge: Bridge): EndReason =>
  ending.reason === "stop" || ending.reason === "caller_hangup"
    ? bridge.departure.endReason ?? ending.reason
    : ending.reason

// Made at module level, so that each closure a call keeps holds the call object and nothing
// of the function it was made in.
const reachMaxDuration = (bridge: Bridge) => bridge.finish("max_duration", null)
const commandsOf = (call: LiveCall): ApplyCommand => (command) => call.apply(command)
const closingOf = (call: LiveCall) => (exit: Exit.Exit<unknown, unknown>) => call.close(exit)
const endingSpan = (fibers: CallFibers<CallForkServices>, span: Tracer.Span, clock: Clock.Clock, timing: boolean) =>
(exit: Exit.Exit<unknown, unknown>) =>
  Effect.zipRight(
    fibers.interruptAll(),
    Effect.sync(() => {
      if (span.status._tag !== "Ended") span.end(timing ? clock.unsafeCurrentTimeNanos() : BigInt(0), exit)
    })
  )

/** The call's span, scope and background fibers, made before anything else of the call. */
const openCall = (id: CallIdentity, fork: Fork<CallForkServices>) =>
  Effect.gen(function*() {
    // Its own trace (the media socket is untraced), linked to the webhook that set the call up.
    // No stack trace captured for it: an Error kept per call for the span's failure attribute.
    const span = yield* Effect.makeSpan("media.call", {
      kind: "server",
      root: true,
      attributes: { "call.sid": id.callSid ?? "", "stream.sid": id.streamSid, "tenant.id": id.tenantId, direction: id.direction },
      links: Option.toArray(linkFrom(id.traceparent)),
      captureStackTrace: false
    })
    const scope = yield* Scope.make()
    const clock = yield* Effect.clock
    const timing = yield* FiberRef.get(FiberRef.currentTracerTimingEnabled)
    // Set once on the call's fiber (it ends with the call), not an `annotateLogs` region on its stack.
    const annotations = yield* FiberRef.updateAndGet(FiberRef.currentLogAnnotations, (current) =>
      HashMap.set(
        HashMap.set(HashMap.set(current, "tenant_id", id.tenantId), "stream_sid", id.streamSid),
        "call_sid",
        id.callSid ?? ""
      ))
    const fibers = new CallFibers(fork, span, annotations)
    // The first finalizer runs last: the call's background fibers stop, then its span ends.
    yield* Scope.addFinalizerExit(scope, endingSpan(fibers, span, clock, timing))
    return { span, scope, clock, fibers } as const
  })

type Opened = Effect.Effect.Success<ReturnType<typeof openCall>>

/**
 * The call's set-up, in its scope (given in its context with the span as parent, for as long
 * as the set-up runs): reads what it needs, builds the bridge, registers the call and starts it.
 */
const setUp = (twilio: TwilioSocket, boot: BootstrapHandler, id: CallIdentity, startAt: number, opened: Opened) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const media = yield* MediaConfig
    // A call is already on the line: what it needs to start is read through a database blink.
    const tenant = yield* retryingRead((yield* TenantCache).get(id.tenantId), "5 seconds").pipe(
      Effect.flatMap(Option.match({
        onNone: () => Effect.fail(new StreamRejected({ message: `unknown tenant ${id.tenantId}` })),
        onSome: Effect.succeed
      }))
    )
    const version = id.agentVersionId === null
      ? Option.none()
      : yield* retryingRead((yield* VersionResolution).byId(id.tenantId, id.agentVersionId), "5 seconds")
    if (id.agentVersionId !== null && Option.isNone(version)) {
      yield* Effect.logWarning("agent version not found for this tenant; using the tenant's defaults (not stored)")
    }
    // Only a version of this tenant's is stored on the call's record and ledger row.
    const agentVersionId = Option.isSome(version) ? id.agentVersionId : null
    const tools = yield* retryingRead((yield* FunctionRegistry).definitions(tenant.config), "5 seconds")
    const settings = agentSettings(tenant.config, Option.getOrUndefined(version), config.openaiRealtimeModel, id.greeting, id.agentName ?? null)

    // ElevenLabs speaks for the call when the tenant asks for it and it can; else the model does.
    const audioProviders = yield* AudioProviders
    const voiceChoice = yield* audioProviders.forCall(tenant.config)
    const voice = voiceChoice.target === undefined ? undefined : new ElevenLabsVoice(voiceChoice.target, yield* ElevenLabsConfig)
    const voiceUsage = voice === undefined ? undefined : yield* audioProviders.speaking(id.tenantId)
    if (voiceChoice.fallbackReason !== null) {
      yield* Effect.logWarning("the tenant's ElevenLabs voice is not usable; this call speaks with OpenAI audio").pipe(
        Effect.annotateLogs({ fallback_reason: voiceChoice.fallbackReason })
      )
    }

    const { clock, span, fibers } = opened
    const startedAt = new Date(clock.unsafeCurrentTimeMillis())
    const telemetry = new CallTelemetry(id.tenantId, id.direction, startAt, span, clock)
    telemetry.framesUp += boot.audio.length // caller audio that arrived before `start`, relayed once upstream
    const call = new LiveCall({
      id,
      tenantConfig: tenant.config,
      settings,
      tools,
      agentVersionId,
      startedAt,
      apiKey: Option.match(config.openaiApiKey, { onNone: () => "", onSome: Redacted.value }),
      url: realtimeUrl(config.openaiBaseUrl, settings.model),
      media,
      records: yield* CallRecords,
      voice,
      voiceUsage
    }, twilio, telemetry, new CallEvents(yield* LiveLogs, id, clock), clock, fibers)

    const bridge = new Bridge(twilio, sessionPlan(settings, tools, voice === undefined ? "audio" : "text"), call, boot.audio)
    call.bridge = bridge
    if (voice !== undefined) bridge.speakWith(voice)
    twilio.handler = bridge
    bridge.recorder.onEntry = call.live
    if (boot.endedEarly !== undefined) bridge.finish(boot.endedEarly, null)
    // Back from a transfer nobody answered: the agent is told, and offers a callback.
    if (id.transferResult != null) bridge.inject(unansweredInstruction(id.transferResult))

    // Listen-only legs (a supervisor's monitor): closed and hung up after everything else.
    call.monitor = yield* makeCallMonitor(id, tenant.config, bridge)
    // Finalizers run in reverse: both sockets are closed first, then the record is written
    // with the ledger row's delete in the same statement, then the call stops taking commands
    // and leaves LiveCalls; not recorded, its ledger row stays for a reaper (as after a crash).
    // With the call's stream token still to spend, `hold` spends it with the ledger row (one
    // statement) before the call is registered or its upstream opened: a replay ends here. The
    // bootstrap deadline bounded the wait for an authenticated `start`, not this (nor the reads
    // above, which retry through a database blink as before).
    // Taken apart at once: the call keeps `leaving` and `recorded` for its length, not `publish`
    // (the ledger insert, a statement with its parameters), spent here.
    const { leaving, publish, recorded } = yield* (yield* LiveCalls).hold({
      tenantId: id.tenantId,
      streamSid: id.streamSid,
      callSid: id.callSid,
      direction: id.direction,
      from: id.from,
      to: id.to,
      agentVersionId,
      model: settings.model,
      voice: settings.voice,
      startedAt,
      agentName: id.agentName ?? Option.getOrUndefined(version)?.agentName ?? null,
      greeting: settings.greeting,
      orgId: tenant.config.org_id ?? null
    }, commandsOf(call), id.tokenUse).pipe(
      Effect.catchTags({
        InvalidStreamToken: (error) => Effect.fail(new StreamRejected({ message: error.message })),
        DatabaseUnavailable: () => Effect.fail(new StreamRejected({ message: TOKEN_UNCHECKED }))
      })
    )
    call.leaving = leaving
    call.recorded = recorded
    boot.settle()
    telemetry.started()
    yield* onScopeClose(closingOf(call))

    fibers.run(call.openUpstream())
    yield* publish
    call.live.started({ direction: id.direction, from: id.from, to: id.to, agent_version_id: agentVersionId, model: settings.model })
    // A plain timer, not a fiber per call (set-up under bursts); cleared when the call closes.
    call.maxDuration = setTimeout(reachMaxDuration, Math.min(media.maxCallSeconds * 1000, 2 ** 31 - 1), bridge)
    return call
  })

/**
 * One live call, in its own scope: the upstream socket(s), the timers, the tool fibers,
 * the LiveCalls entry (with the way commands reach it) and the call record all belong to it.
 * Whatever ends the call (stop, hang-up, the agent, max duration, upstream failure, an `End`
 * command, shutdown), closing the scope closes both sockets and writes the record exactly once.
 *
 * The scope is made by hand and closed when the call's effect exits, and its first finalizer
 * ends the call's span: while the call runs its fiber keeps a handful of stack frames, where
 * `withSpan`, `annotateLogs` and `Effect.scoped` around it kept 28 (bench/RESULTS.md). The span
 * is the parent of what the set-up, the background fibers and the closing do.
 */
export const runCall = (twilio: TwilioSocket, boot: BootstrapHandler, id: CallIdentity, startAt: number, fork: Fork<CallForkServices>) =>
  Effect.flatMap(openCall(id, fork), (opened) => {
    const call = Effect.flatMap(
      Effect.provide(
        setUp(twilio, boot, id, startAt, opened),
        Context.add(Context.make(Scope.Scope, opened.scope), Tracer.ParentSpan, opened.span)
      ),
      (call) => Effect.flatMap(call.over(), (outcome) => Effect.withParentSpan(call.afterEnd(outcome), opened.span))
    )
    // The stream's exit handler closes the scope (MediaStreams); without a stream, our own does.
    const end = boot.settlement
    if (end === undefined) return Effect.onExit(call, (exit) => closeCall(opened, exit))
    end.closeWith(opened)
    return call
  })

/** Closes a call's scope with its fiber's exit: its finalizers run with the call's span as parent. */
export const closeCall = (call: CallScope, exit: Exit.Exit<unknown, unknown>) =>
  Effect.withParentSpan(Scope.close(call.scope, exit), call.span)
