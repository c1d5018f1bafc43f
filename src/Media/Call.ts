import { twilioCallSid } from "../CallLogs/CallKey.js"
import { Cause, Deferred, Effect, Exit, FiberSet, Option, Redacted } from "effect"
import { CallTelemetry } from "../Observability/CallTelemetry.js"
import { linkFrom } from "../Observability/TraceContext.js"
import { VersionResolution } from "../Agents/VersionResolution.js"
import { FunctionRegistry } from "../Tools/FunctionRegistry.js"
import { CallRecords, type CompletedCall } from "../CallLogs/CallRecords.js"
import type { StatementPart } from "../Database/StatementParts.js"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"
import { readFirst as retryingRead, writeFirst as retryingWrite } from "./FirstTry.js"
import { AppConfig } from "../Config.js"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { callEvents } from "../LiveLogs/CallEvents.js"
import { LiveLogs } from "../LiveLogs/LiveLogs.js"
import { type BootstrapHandler, StreamRejected } from "./Bootstrap.js"
import { Bridge, type BridgeHooks, type EndReason } from "./Bridge.js"
import { type CallIdentity, TOKEN_UNCHECKED } from "./CallIdentity.js"
import { apologise } from "./Apology.js"
import { hangUp } from "./HangUp.js"
import { applyCommand } from "./Commands.js"
import { MediaConfig } from "./MediaConfig.js"
import { openRealtime, realtimeUrl, UpstreamUnavailable } from "./RealtimeSocket.js"
import { agentSettings, sessionPlan } from "./SessionPlan.js"
import { runTool } from "./ToolRunner.js"
import { onScopeClose } from "./ScopeFinalizer.js"
import { unansweredInstruction } from "../Transfers/Texts.js"
import type { TwilioSocket } from "./TwilioSocket.js"
import { AudioProviders } from "../Voices/AudioProviders.js"
import { ElevenLabsConfig } from "../Voices/Config.js"
import { ElevenLabsVoice } from "../Voices/ElevenLabsVoice.js"
import { makeCallMonitor } from "../Monitoring/CallMonitor.js"

interface Ending {
  readonly reason: EndReason
  readonly message: string | null
}

/** A stream that stopped right after the agent's action was taken ended because of it. */
const finalReason = (ending: Ending, bridge: Bridge): EndReason =>
  ending.reason === "stop" || ending.reason === "caller_hangup"
    ? bridge.departure.endReason ?? ending.reason
    : ending.reason

/**
 * One live call, in its own scope: the upstream socket(s), the timers, the tool fibers,
 * the LiveCalls entry (with the fiber that applies commands) and the call record all
 * belong to it. Whatever ends the call (stop, hang-up, the agent, max duration, upstream
 * failure, an `End` command, shutdown), closing the scope closes both sockets and writes
 * the record exactly once.
 */
export const runCall = (twilio: TwilioSocket, boot: BootstrapHandler, id: CallIdentity, startAt: number) =>
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
    const apiKey = Option.match(config.openaiApiKey, { onNone: () => "", onSome: Redacted.value })
    const url = realtimeUrl(config.openaiBaseUrl, settings.model)
    const toolContext = {
      tenantId: id.tenantId,
      tenantConfig: tenant.config,
      // The AI's transfer tool acts on the Twilio call: none behind a console test call.
      callSid: twilioCallSid(id),
      streamSid: id.streamSid,
      customerPhone: id.direction === "inbound" ? id.from : id.to,
      transcript: () => bridge.recorder.transcript
    }

    // ElevenLabs speaks for the call when the tenant asks for it and it can; else the model does.
    const audioProviders = yield* AudioProviders
    const voiceChoice = yield* audioProviders.forCall(tenant.config)
    const elevenlabs = (yield* ElevenLabsConfig)
    const voice = voiceChoice.target === undefined ? undefined : new ElevenLabsVoice(voiceChoice.target, elevenlabs)
    const voiceUsage = voice === undefined ? undefined : yield* audioProviders.speaking(id.tenantId)
    let spokenBy = voice === undefined ? settings.voice : `elevenlabs:${voice.target.voiceId}`
    if (voiceChoice.fallbackReason !== null) {
      yield* Effect.logWarning("the tenant's ElevenLabs voice is not usable; this call speaks with OpenAI audio").pipe(
        Effect.annotateLogs({ fallback_reason: voiceChoice.fallbackReason })
      )
    }

    const clock = yield* Effect.clock
    const startedAt = new Date(clock.unsafeCurrentTimeMillis())
    const span = Option.getOrUndefined(yield* Effect.option(Effect.currentSpan))
    const telemetry = new CallTelemetry(id.tenantId, id.direction, startAt, span, clock)
    const live = callEvents(yield* LiveLogs, id, () => clock.unsafeCurrentTimeMillis())
    telemetry.framesUp += boot.audio.length // caller audio that arrived before `start`, relayed once upstream
    const toolLabel = (name: string) => tools.some((tool) => tool.name === name) ? name : "unknown"
    const ended = yield* Deferred.make<Ending>()
    let ending: Ending | undefined
    const run = yield* FiberSet.makeRuntime<MediaConfig | FunctionRegistry>()

    const openUpstream = (bridge: Bridge) =>
      Effect.suspend(() => {
        const opening = clock.unsafeCurrentTimeMillis()
        return (apiKey === ""
          ? Effect.fail(new UpstreamUnavailable({ message: "OPENAI_API_KEY is not configured" }))
          : openRealtime(url, apiKey, media.upstreamConnectTimeoutMs)).pipe(
            Effect.withSpan("openai.realtime.connect", { kind: "client", attributes: { model: settings.model } }),
            Effect.match({
              onSuccess: (socket) => {
                telemetry.upstreamConnected(clock.unsafeCurrentTimeMillis() - opening)
                bridge.upstreamReady(socket)
              },
              onFailure: (error) => {
                telemetry.upstreamFailed(apiKey === "" ? "not_configured" : "connect")
                bridge.upstreamFailed(error.message)
              }
            })
          )
      })

    const hooks: BridgeHooks = {
      now: () => clock.unsafeCurrentTimeMillis(),
      runTool: (callId, name, args) =>
        run(Effect.flatMap(runTool(name, args, toolContext, media.toolTimeoutMs), (result) =>
          Effect.sync(() => {
            telemetry.toolCalled(toolLabel(name), result.outcome, result.entry.durationMs)
            bridge.recorder.toolCalled(result.entry)
            live.toolCalled(result.entry, result.outcome)
            bridge.toolFinished(callId, result.output, result.action)
          }))),
      reconnect: () => {
        telemetry.reconnecting()
        run(openUpstream(bridge))
      },
      hangupSoon: () => run(Effect.delay(Effect.sync(() => bridge.finishAction()), media.hangupGraceMs)),
      ended: (reason, message) => {
        ending = { reason, message }
        Deferred.unsafeDone(ended, Exit.succeed(ending))
      },
      warn: (message) => {
        live.error(message)
        run(Effect.logWarning(message))
      },
      voiceFellBack: (reason) => {
        spokenBy = settings.voice
        voiceUsage?.fellBack()
        telemetry.audioFallback("elevenlabs_failed")
        run(Effect.logWarning(`ElevenLabs failed mid-call, OpenAI audio from now on: ${reason}`).pipe(
          Effect.annotateLogs({ fallback_reason: "elevenlabs_failed" })
        ))
      },
      telemetry
    }
    const bridge = new Bridge(twilio, sessionPlan(settings, tools, voice === undefined ? "audio" : "text"), hooks, boot.audio)
    if (voice !== undefined) bridge.speakWith(voice)
    twilio.handler = bridge
    bridge.recorder.onEntry = live.said
    if (boot.endedEarly !== undefined) bridge.finish(boot.endedEarly, null)
    // Back from a transfer nobody answered: the agent is told, and offers a callback.
    if (id.transferResult != null) bridge.inject(unansweredInstruction(id.transferResult))

    const record = (exit: Exit.Exit<unknown, unknown>, leaving: StatementPart) => {
      const final: Ending = ending ?? {
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
        agentVersionId,
        model: settings.model,
        voice: spokenBy,
        startedAt,
        endedAt: new Date(clock.unsafeCurrentTimeMillis()),
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
      telemetry.ended(call.endReason)
      live.ended(call.endReason, call.errorMessage, Math.round((call.endedAt.getTime() - startedAt.getTime()) / 1000))
      return CallRecords.pipe(
        // The record and the ledger row's delete are one statement: both commit, or neither.
        Effect.flatMap((records) => records.recordCompletedCall(call, [leaving])),
        // Any failure (a lost connection whose ROLLBACK fails too is a defect) is retried; past
        // the budget the ledger row stays and a reaper records the call (LiveCalls.hold).
        (write) => retryingWrite(write, `${media.recordRetrySeconds} seconds`),
        Effect.tap(() => Effect.logInfo("call ended").pipe(Effect.annotateLogs({ end_reason: call.endReason })))
      )
    }
    // Listen-only legs (a supervisor's monitor): closed and hung up after everything else.
    const monitor = yield* makeCallMonitor(id, tenant.config, bridge)
    // Finalizers run in reverse: both sockets are closed first, then the record is written
    // with the ledger row's delete in the same statement, then the call stops taking commands
    // and leaves LiveCalls; not recorded, its ledger row stays for a reaper (as after a crash).
    // With the call's stream token still to spend, `hold` spends it with the ledger row (one
    // statement) before the call is registered or its upstream opened: a replay ends here. The
    // bootstrap deadline bounded the wait for an authenticated `start`, not this (nor the reads
    // above, which retry through a database blink as before).
    // Taken apart at once: the finalizer below keeps `leaving` and `recorded` for the call's
    // length, not `publish` (the ledger insert, a statement with its parameters), spent here.
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
    }, (command) => command._tag === "Listen" ? monitor.dial(command) : applyCommand(bridge, command), id.tokenUse).pipe(
      Effect.catchTags({
        InvalidStreamToken: (error) => Effect.fail(new StreamRejected({ message: error.message })),
        DatabaseUnavailable: () => Effect.fail(new StreamRejected({ message: TOKEN_UNCHECKED }))
      })
    )
    boot.settle()
    telemetry.started()
    yield* onScopeClose((exit) =>
      record(exit, leaving).pipe(
        Effect.zipRight(recorded),
        Effect.catchAllCause((cause) => Effect.logError("call record not written", cause))
      )
    )
    yield* onScopeClose(() =>
      Effect.sync(() => {
        voice?.close()
        bridge.currentUpstream?.close()
        twilio.close(1000, "call ended")
      })
    )

    run(openUpstream(bridge))
    yield* publish
    live.started({ direction: id.direction, from: id.from, to: id.to, agent_version_id: agentVersionId, model: settings.model })
    // A plain timer, not a fiber per call (set-up under bursts); cleared with the call's scope.
    const maxDuration = setTimeout(() => bridge.finish("max_duration", null), Math.min(media.maxCallSeconds * 1000, 2 ** 31 - 1))
    yield* onScopeClose(() => Effect.sync(() => clearTimeout(maxDuration)))
    const outcome = yield* Deferred.await(ended)
    // A browser test call has no Twilio call behind it (null here): closing its socket ends it.
    if (outcome.reason === "upstream_failure") yield* apologise(tenant.config, twilioCallSid(id))
    if (outcome.reason === "ended_by_command") yield* hangUp(tenant.config, twilioCallSid(id))
  }).pipe(
    Effect.scoped,
    Effect.annotateLogs({ tenant_id: id.tenantId, stream_sid: id.streamSid, call_sid: id.callSid ?? "" }),
    // Its own trace (the media socket is untraced), linked to the webhook that set the call up.
    Effect.withSpan("media.call", {
      kind: "server",
      root: true,
      attributes: { "call.sid": id.callSid ?? "", "stream.sid": id.streamSid, "tenant.id": id.tenantId, direction: id.direction },
      links: Option.toArray(linkFrom(id.traceparent))
    })
  )
