import { callKey, twilioCallSid } from "../CallLogs/CallKey.js"
import { type Clock, Effect, type Exit } from "effect"
import type { CallTelemetry } from "../Observability/CallTelemetry.js"
import type { FunctionRegistry, ToolContext, ToolDefinition } from "../Tools/FunctionRegistry.js"
import type { CallRecords } from "../CallLogs/CallRecords.js"
import type { CallOwner, Holding } from "../LiveCalls/LiveCalls.js"
import { type CallCommand, type CommandResult, type LiveCall as LedgerRow, liveCallOf } from "../LiveCalls/Domain.js"
import { writeFirst as retryingWrite } from "./FirstTry.js"
import type { AppConfig } from "../Config.js"
import type { CallEvents } from "../LiveLogs/CallEvents.js"
import type { Bridge } from "./Bridge.js"
import type { Deadlines } from "./Deadlines.js"
import type { BridgeHooks, EndReason } from "./BridgeHooks.js"
import { completedCall, loggedEnd } from "./CallRecord.js"
import type { CallIdentity } from "./CallIdentity.js"
import type { CallFibers } from "./CallFibers.js"
import { apologise } from "./Apology.js"
import { hangUp } from "./HangUp.js"
import { applyCommand } from "./Commands.js"
import type { MediaConfig } from "./MediaConfig.js"
import type { SpareUpstreams } from "./SpareUpstreams.js"
import type { AgentSettings } from "./SessionPlan.js"
import { runTool, type ToolRun } from "./ToolRunner.js"
import { UpstreamOpening } from "./UpstreamOpening.js"
import type { TwilioSocket } from "./TwilioSocket.js"
import type { TenantConfig } from "../Tenants/Config.js"
import type { TwilioClient } from "../Twilio/Client.js"
import type { ElevenLabsVoice } from "../Voices/ElevenLabsVoice.js"
import type { CallMonitor } from "../Monitoring/CallMonitor.js"

/** What a call's background fibers (tools, the upstream's opening) need. */
export type CallForkServices = MediaConfig | FunctionRegistry

export interface Ending {
  readonly reason: EndReason
  readonly message: string | null
}

/** Closes a call once the bridge has ended it (CallClosing.ts). */
export interface CallCloser {
  ended(ending: Ending): void
}

/** What the set-up read and decided, kept by the call for its length. */
export interface CallPlan {
  readonly id: CallIdentity
  readonly tenantConfig: TenantConfig
  readonly settings: AgentSettings
  readonly tools: ReadonlyArray<ToolDefinition>
  readonly agentVersionId: string | null
  /** The agent's name on the ledger row: the call's own, else its agent version's. */
  readonly agentName: string | null
  /** When the call started (ms): a Date is made when a row or the record is written (one kept was ~0.1 KB per call). */
  readonly startedAtMs: number
  readonly apiKey: string
  readonly url: string
  readonly media: MediaConfig
  /** Upstream sockets opened before calls need them (one is taken instead of opening). */
  readonly spares: SpareUpstreams
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
export class LiveCall implements BridgeHooks, CallOwner {
  bridge!: Bridge
  monitor!: CallMonitor
  /** The call's max-duration deadline is in these (Deadlines: one timer for every call). */
  maxDuration: Deadlines<LiveCall> | undefined = undefined
  /** Set once, when the bridge ends the call. */
  ending: Ending | undefined = undefined
  /** What closes the call once it ends (set when the set-up hands the call over: CallClosing). */
  closer: CallCloser | undefined = undefined
  spokenBy: string
  /** The call's upstream socket until it reaches the bridge. */
  private readonly upstream: UpstreamOpening

  constructor(
    private readonly plan: CallPlan,
    private readonly twilio: TwilioSocket,
    readonly telemetry: CallTelemetry,
    readonly live: CallEvents,
    private readonly clock: Clock.Clock,
    private readonly fibers: CallFibers<CallForkServices>
  ) {
    this.spokenBy = plan.voice === undefined ? plan.settings.voice : `elevenlabs:${plan.voice.target.voiceId}`
    this.upstream = new UpstreamOpening(plan, fibers, this)
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
    this.openUpstream()
  }

  hangupSoon(): void {
    this.fibers.run(Effect.delay(Effect.sync(() => this.bridge.finishAction()), this.plan.media.hangupGraceMs))
  }

  ended(reason: EndReason, message: string | null): void {
    const ending = { reason, message }
    this.ending = ending
    this.closer?.ended(ending)
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

  /** Opens (or takes a spare) upstream; the bridge speaks to it at once and hears it once the call is held (UpstreamOpening). */
  openUpstream(): void {
    this.upstream.open()
  }

  /** The call is held (its stream token spent, its ledger row in): the model is heard, its output reaches the caller. */
  admitted(): void {
    this.upstream.admitted()
  }

  /** The call's row in the live-calls ledger (LiveCalls.holdFor), made when it is written. */
  ledgerRow(): LedgerRow {
    const { id, settings, agentVersionId, agentName, startedAtMs, tenantConfig } = this.plan
    return liveCallOf(callKey(id, agentVersionId), {
      model: settings.model,
      voice: settings.voice,
      startedAt: new Date(startedAtMs),
      agentName,
      greeting: settings.greeting,
      orgId: tenantConfig.org_id ?? null
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
   * The call is closed: the max-duration timer is cleared, both sockets are closed, then
   * the record is written with the ledger row's delete (`holding`, LiveCalls.holdFor) in the
   * same statement (exactly once: the call's leaving runs once, OpenedCall.close), then the
   * listen-only legs are closed and hung up; LiveCalls then lets the call go. One step for all
   * of it (a finalizer per step was an entry and a closure each per call).
   */
  close(exit: Exit.Exit<unknown, unknown>, holding: Holding): Effect.Effect<void> {
    this.maxDuration?.clear(this)
    this.plan.voice?.close()
    this.bridge.currentUpstream?.close()
    this.twilio.close(1000, "call ended")
    return this.record(exit, holding).pipe(
      Effect.zipRight(holding.recorded),
      Effect.catchAllCause((cause) => Effect.logError("call record not written", cause)),
      Effect.zipRight(Effect.suspend(() => this.monitor.close()))
    )
  }

  private record(exit: Exit.Exit<unknown, unknown>, holding: Holding) {
    const { records, media } = this.plan
    const call = completedCall(this.plan, this.bridge, this.ending, exit, this.spokenBy, new Date(this.now()))
    this.telemetry.ended(call.endReason)
    this.live.ended(call.endReason, call.errorMessage, Math.round((call.endedAt.getTime() - call.startedAt.getTime()) / 1000))
    // The record and the ledger row's delete are one statement: both commit, or neither. Any
    // failure (a lost connection whose ROLLBACK fails too is a defect) is retried; past the
    // budget the ledger row stays and a reaper records the call (LiveCalls.hold).
    return Effect.flatMap(
      retryingWrite(records.recordCompletedCall(call, [holding.leaving]), `${media.recordRetrySeconds} seconds`),
      () => loggedEnd(call.endReason, this.bridge.recorder.omittedChars)
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
