import { Effect, Option } from "effect"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { CallbackTasks, type TaskInput } from "./CallbackTasks.js"
import { type AutoTaskRule, autoTaskEnabled } from "./TenantSettings.js"
import type { CallDirection } from "../CallLogs/CallKey.js"

/** Which call, of whom: what every task a call makes carries. */
export interface CallFacts {
  readonly tenantId: string
  readonly callSid: string | null
  readonly streamSid: string | null
  readonly direction: CallDirection
  readonly customerPhone: string | null
  readonly agentName: string | null
  readonly at: Date
}

/** A finished media stream, as the call record saw it. */
export interface StreamFacts extends CallFacts {
  readonly resolution: string
  readonly answeredBy: string | null
  readonly summary: string | null
  readonly functionCalls: ReadonlyArray<{ readonly name: string; readonly arguments: unknown; readonly result: unknown }>
}

const isMachine = (answeredBy: string | null) => answeredBy !== null && answeredBy.startsWith("machine")

const CALLBACK_TIME_KEYS = ["callback_at", "scheduled_for", "time", "when", "at"]

/** The time a `request_callback` tool call asked for (ISO 8601 with a zone), if any. */
const requestedCallback = (facts: StreamFacts): Date | undefined => {
  for (const call of facts.functionCalls) {
    if (call.name !== "request_callback" || typeof call.arguments !== "object" || call.arguments === null) continue
    const args = call.arguments as Record<string, unknown>
    for (const key of CALLBACK_TIME_KEYS) {
      const value = args[key]
      if (typeof value === "string" && /T.*(Z|[+-]\d{2}:?\d{2})$/i.test(value) && !Number.isNaN(Date.parse(value))) return new Date(value)
    }
  }
  return undefined
}

/** A transfer the agent started that did not connect (the tool reported a failure). */
const transferFailed = (facts: StreamFacts) =>
  facts.functionCalls.some((call) => {
    if (call.name !== "escalate_call_to_human") return false
    const result = call.result
    if (typeof result !== "object" || result === null) return false
    const r = result as Record<string, unknown>
    return r.ok === false || r.success === false || (typeof r.error === "string" && r.error !== "")
  })

/**
 * Tasks made by calls, in the transaction that writes the call record, in the tenant's
 * default queue (docs/operations.md lists the rules). Each rule fires once per call
 * (`source_key`), however often Twilio reports the call; a tenant turns a rule off with
 * `operations.auto_tasks.<disposition>: false`.
 */
export class CallTasks extends Effect.Service<CallTasks>()("CallTasks", {
  effect: Effect.gen(function*() {
    const tasks = yield* CallbackTasks
    const cache = yield* TenantCache

    const make = (facts: CallFacts, disposition: AutoTaskRule, extra: Partial<TaskInput> = {}) =>
      Effect.gen(function*() {
        const tenant = yield* cache.get(facts.tenantId)
        if (Option.isNone(tenant) || !autoTaskEnabled(tenant.value.document, disposition)) return
        const call = facts.callSid ?? facts.streamSid
        if (call === null) return
        yield* tasks.insert(facts.tenantId, {
          disposition,
          callSid: facts.callSid,
          streamSid: facts.streamSid,
          customerPhone: facts.customerPhone,
          agentName: facts.agentName,
          createdBy: "call_rules",
          sourceKey: `call:${call}:${disposition}`,
          ...extra
        }, facts.at).pipe(Effect.catchTag("OperatorQueueNotFound", (e) => Effect.die(e)))
      })

    /**
     * A Twilio status callback. A callback placed by auto-dispatch reports back to its task
     * (busy / no-answer make it eligible for a retry) instead of making a new one.
     */
    const fromStatus = (facts: CallFacts, twilioStatus: string, answeredBy: string | null) =>
      Effect.gen(function*() {
        if (facts.callSid !== null) {
          const status = isMachine(answeredBy) ? "voicemail" : twilioStatus
          if (yield* tasks.recordDispatchStatus(facts.tenantId, facts.callSid, status, facts.at)) return
        }
        if (isMachine(answeredBy)) yield* make(facts, "voicemail_follow_up", { summary: "The call reached voicemail." })
        if (facts.direction === "outbound" && (twilioStatus === "busy" || twilioStatus === "no-answer")) {
          yield* make(facts, "human_follow_up_required", { summary: `Outbound call was not answered (${twilioStatus}).` })
        }
      })

    /** A finished media stream. */
    const fromStream = (facts: StreamFacts) =>
      Effect.gen(function*() {
        if (isMachine(facts.answeredBy)) {
          return yield* make(facts, "voicemail_follow_up", { summary: "The call reached voicemail." })
        }
        const when = requestedCallback(facts)
        if (when !== undefined) yield* make(facts, "callback_scheduled", { dueAt: when, summary: facts.summary })
        if (transferFailed(facts)) {
          yield* make(facts, "human_follow_up_required", { summary: "A transfer to a human did not connect." })
        }
        if (facts.resolution === "abandoned") {
          yield* make(facts, "customer_abandoned", { summary: "The caller hung up before anything was resolved." })
        }
      })

    return { fromStatus, fromStream } as const
  }),
  dependencies: [CallbackTasks.Default]
}) {}
