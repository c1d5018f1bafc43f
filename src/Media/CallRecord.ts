import { Cause, Effect, Exit, FiberRef, HashMap } from "effect"
import { callKey } from "../CallLogs/CallKey.js"
import type { CompletedCall } from "../CallLogs/CallRecords.js"
import type { Bridge } from "./Bridge.js"
import type { EndReason } from "./BridgeHooks.js"
import { TRANSCRIPT_MAX_CHARS } from "./CallRecorder.js"
import type { CallPlan, Ending } from "./LiveCall.js"

/**
 * What a call's record says, from its plan, its bridge and how it ended (`ending`, else the
 * scope's exit: a failure, or the service stopping while the call ran).
 */
export const completedCall = (
  plan: CallPlan,
  bridge: Bridge,
  ending: Ending | undefined,
  exit: Exit.Exit<unknown, unknown>,
  spokenBy: string,
  endedAt: Date
): CompletedCall => {
  const { id, settings } = plan
  const final: Ending = ending ?? {
    reason: "error",
    message: Exit.isFailure(exit) && !Exit.isInterrupted(exit)
      ? Cause.pretty(exit.cause)
      : "the service stopped during the call"
  }
  return {
    ...callKey(id, plan.agentVersionId),
    model: settings.model,
    voice: spokenBy,
    startedAt: new Date(plan.startedAtMs),
    endedAt,
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
}

/** "call ended" (and a warning when the record's transcript was cut short). */
export const loggedEnd = (endReason: EndReason, omittedChars: number) =>
  omittedChars === 0 ? logEnded(endReason) : Effect.zipRight(logEnded(endReason), Effect.logWarning(
    `the transcript passed ${TRANSCRIPT_MAX_CHARS} characters: the record keeps the first ones, ${omittedChars} more were streamed live only`
  ))

/**
 * "call ended", with its end reason among the closing fiber's log annotations for that one line:
 * set and put back, where an `annotateLogs` region is a `FiberRef.locally` (an acquire/use/release,
 * 17 Effect operations) on every call's end. The closing runs uninterruptibly (a finalizer).
 */
const logEnded = (endReason: EndReason) =>
  Effect.flatMap(
    FiberRef.getAndUpdate(FiberRef.currentLogAnnotations, HashMap.set<string, unknown>("end_reason", endReason)),
    (before) => Effect.zipRight(Effect.logInfo("call ended"), FiberRef.set(FiberRef.currentLogAnnotations, before))
  )

/** A stream that stopped right after the agent's action was taken ended because of it. */
export const finalReason = (ending: Ending, bridge: Bridge): EndReason =>
  ending.reason === "stop" || ending.reason === "caller_hangup"
    ? bridge.departure.endReason ?? ending.reason
    : ending.reason
