import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Option } from "effect"
import type { StatementPart } from "../Database/StatementParts.js"
import { Ids } from "../Ids.js"
import { type CachedTenant, TenantCache } from "../TenantCache/TenantCache.js"
import { CallbackTasks, type TaskInput } from "./CallbackTasks.js"
import { TaskEvents } from "./Events.js"
import { type AutoTaskRule, autoTaskEnabled } from "./TenantSettings.js"
import type { CallDirection } from "../CallLogs/CallKey.js"
import { joined, piece } from "../Database/Piece.js"

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

/**
 * A finished media stream, as the call's one-statement record knows it before writing: who
 * answered, and the call's summary, are read from the recorded call log (`streamParts`).
 */
export interface StreamFacts extends CallFacts {
  /** The call's resolution if a person answered it (CallRecords' resolutionOf). */
  readonly humanResolution: string
  readonly functionCalls: ReadonlyArray<{ readonly name: string; readonly arguments: unknown; readonly result: unknown }>
}

/** A rule that may fire for the stream, and who must have answered for it to (see `streamParts`). */
interface Candidate {
  readonly rule: AutoTaskRule
  readonly answered: "machine" | "not_machine" | "person"
  readonly summary: string | null
  readonly dueAt?: Date
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
    const sql = yield* SqlClient.SqlClient
    const tasks = yield* CallbackTasks
    const cache = yield* TenantCache
    const events = yield* TaskEvents
    const ids = yield* Ids

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

    /**
     * The tasks a finished media stream makes (docs/operations.md), as parts of the call's
     * one-statement record (CallRecords). Who answered is
     * read from the recorded call log (the part named `log`, its `answered_by` and `summary`),
     * so each rule that may fire is a candidate with the answer it needs; `humanResolution` is
     * the call's resolution when a person answered. Plain code on the tenant the record read
     * (TenantCache) and the service clock's `now`: it runs at the end of every call.
     */
    const streamParts = (tenant: Option.Option<CachedTenant>, facts: StreamFacts, now: number, log: string): ReadonlyArray<StatementPart> => {
      const call = facts.callSid ?? facts.streamSid
      if (Option.isNone(tenant) || call === null) return []
      const enabled = (rule: AutoTaskRule) => autoTaskEnabled(tenant.value.document, rule)
      const when = requestedCallback(facts)
      const candidates: Array<Candidate> = [
        ...(enabled("voicemail_follow_up") ? [{ rule: "voicemail_follow_up", answered: "machine", summary: "The call reached voicemail." } as const] : []),
        ...(when !== undefined && enabled("callback_scheduled")
          ? [{ rule: "callback_scheduled", answered: "not_machine", summary: null, dueAt: when } as const]
          : []),
        ...(transferFailed(facts) && enabled("human_follow_up_required")
          ? [{ rule: "human_follow_up_required", answered: "not_machine", summary: "A transfer to a human did not connect." } as const]
          : []),
        ...(facts.humanResolution === "abandoned" && enabled("customer_abandoned")
          ? [{ rule: "customer_abandoned", answered: "person", summary: "The caller hung up before anything was resolved." } as const]
          : [])
      ]
      if (candidates.length === 0) return []
      const rows = candidates.map((c) => {
        const event = events.nextEventIds()
        // A null summary is the call log's (a scheduled callback carries the call's summary).
        return piece`(${ids.nextUuid()}::uuid, ${c.rule}::text, ${c.summary}::text, ${c.summary === null}::boolean,
          ${c.dueAt?.toISOString() ?? null}::timestamptz, ${c.answered}::text, ${`call:${call}:${c.rule}`}::text,
          ${event.rowId}::uuid, ${event.msgId}::text)`
      })
      const wanted = piece`
        select c.id, c.disposition, case when c.summary_from_log then l.summary else c.summary end as summary,
          c.due_at, c.source_key, c.event_row_id, c.event_msg_id
        from ${sql(log)} l, (values ${joined(", ", rows)})
          as c(id, disposition, summary, summary_from_log, due_at, answered, source_key, event_row_id, event_msg_id)
        -- isMachine, and a person (not a machine nor a fax) for resolutionOf's "abandoned" (CallRecords).
        where case c.answered
          when 'machine' then coalesce(l.answered_by like 'machine%', false)
          when 'not_machine' then coalesce(l.answered_by not like 'machine%', true)
          else coalesce(l.answered_by !~ '^(machine|fax)', true) end`
      const url = tenant.value.config.webhook_url
      return [{ name: "wanted_task", statement: wanted }, ...tasks.callRuleParts(url, facts.tenantId, facts, facts.at, now, "wanted_task")]
    }

    return { fromStatus, streamParts } as const
  }),
  dependencies: [CallbackTasks.Default, TaskEvents.Default]
}) {}
