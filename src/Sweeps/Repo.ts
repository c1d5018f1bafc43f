import * as SqlClient from "@effect/sql/SqlClient"
import type { Fragment } from "@effect/sql/Statement"
import { Effect, Option, Schema } from "effect"
import { CallbackTask } from "../CallbackTasks/Schemas.js"
import { OperatorQueue } from "../OperatorQueues/Schemas.js"

/** A dial whose result never came back (the replica died mid-call) counts as failed after this long. */
export const DIAL_LEASE_SECONDS = 600

const Candidate = Schema.Struct({ id: Schema.String, tenant_id: Schema.String })
const decodeCandidates = Schema.decodeUnknown(Schema.Array(Candidate))
const decodeTasks = Schema.decodeUnknown(Schema.Array(CallbackTask))
const decodeQueues = Schema.decodeUnknown(Schema.Array(OperatorQueue))

export type Sweep = "sla" | "followUp" | "dispatch" | "reconcile"

/**
 * Candidate selection and per-task claims for the operator sweeps. A sweep lists
 * candidates without locks, then claims each in its own transaction with `FOR UPDATE SKIP
 * LOCKED` and the condition checked again: a task another replica holds is skipped, and
 * one it already handled no longer matches, so each task is handled once.
 */
export class SweepsRepo extends Effect.Service<SweepsRepo>()("SweepsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const live = sql`t.status in ('open', 'in_progress')`
    const awake = (at: Date) => sql`(t.snoozed_until is null or t.snoozed_until <= ${at})`

    /** The queue's UTC hour window (see DispatchWindow.ts), here so closed queues do not use up a sweep's limit. */
    const insideUtcHours = (at: Date) => {
      const hour = at.getUTCHours()
      const [start, end] = [sql`q.dispatch_window_start_hour_utc`, sql`q.dispatch_window_end_hour_utc`]
      return sql`(${start} is null or ${end} is null or ${start} = ${end}
        or (${start} < ${end} and ${hour} >= ${start} and ${hour} < ${end})
        or (${start} > ${end} and (${hour} >= ${start} or ${hour} < ${end})))`
    }

    const condition = (sweep: Sweep, at: Date, recheckAfter: number): Fragment => {
      switch (sweep) {
        case "sla":
          return sql`${live} and t.sla_due_at <= ${at} and t.last_sla_alert_due_at is distinct from t.sla_due_at`
        case "followUp":
          return sql`${live} and (
            (t.snoozed_until is not null and t.snoozed_until <= ${at})
            or (t.acknowledged_at is null and ${awake(at)} and (
              (t.follow_up_notified_at is null and coalesce(t.sla_due_at, t.due_at) <= ${at})
              or (t.follow_up_escalated_at is null and q.follow_up_escalation_seconds is not null
                  and t.created_at + make_interval(secs => q.follow_up_escalation_seconds) <= ${at}))))`
        case "dispatch":
          return sql`t.status = 'open' and ${awake(at)} and q.active and q.auto_dispatch_enabled and ${insideUtcHours(at)}
            and t.customer_phone is not null and t.due_at <= ${at}
            and t.dispatch_attempt_count < q.auto_dispatch_max_attempts
            and t.created_at + make_interval(secs => coalesce(q.auto_dispatch_delay_seconds, 0)) <= ${at}
            and (t.last_dispatch_attempted_at is null
              or t.last_dispatch_attempted_at + make_interval(secs => coalesce(q.auto_dispatch_retry_delay_seconds, 0)) <= ${at})
            and (t.last_dispatch_status is null or t.last_dispatch_status in ('failed', 'busy', 'no-answer', 'canceled', 'voicemail')
              or (t.last_dispatch_status = 'dialing'
                  and t.last_dispatch_attempted_at + make_interval(secs => ${DIAL_LEASE_SECONDS}) <= ${at}))`
        case "reconcile":
          return sql`${live} and t.metadata ->> 'external_reference_id' is not null
            and (t.external_checked_at is null or t.external_checked_at + make_interval(secs => ${recheckAfter}) <= ${at})`
      }
    }

    const from = sql`callback_tasks t join operator_queues q on q.tenant_id = t.tenant_id and q.queue_key = t.queue_key`

    /** Up to `limit` candidates, oldest first; of one tenant when `tenantId` is given. */
    const candidates = (sweep: Sweep, at: Date, tenantId: string | null, limit: number, recheckAfter = 0) =>
      sql`select t.id, t.tenant_id from ${from}
          where ${tenantId === null ? sql`true` : sql`t.tenant_id = ${tenantId}`} and ${condition(sweep, at, recheckAfter)}
          order by t.priority desc, t.created_at, t.id limit ${limit}`.pipe(Effect.flatMap(decodeCandidates))

    /** Inside the caller's transaction: the task and its queue, locked, if it still qualifies and no one holds it. */
    const claim = (sweep: Sweep, tenantId: string, id: string, at: Date, recheckAfter = 0) =>
      sql`select to_jsonb(t) as task, to_jsonb(q) as queue, t.follow_up_notified_at is not null as notified,
            t.follow_up_escalated_at is not null as escalated from ${from}
          where t.tenant_id = ${tenantId} and t.id = ${id} and ${condition(sweep, at, recheckAfter)}
          for update of t skip locked`.pipe(
        Effect.flatMap((rows) =>
          Effect.forEach(rows, (row) =>
            Effect.all({
              task: Effect.map(decodeTasks([row.task]), (tasks) => tasks[0]!),
              queue: Effect.map(decodeQueues([row.queue]), (queues) => queues[0]!),
              /** Follow-up bookkeeping: a reminder / an escalation was already made. */
              notified: Effect.succeed(row.notified === true),
              escalated: Effect.succeed(row.escalated === true)
            }))
        ),
        Effect.map((rows) => Option.fromNullable(rows[0]))
      )

    /** Number of overdue live tasks (the SLA sweep's `overdue_tasks`). */
    const overdueCount = (at: Date, tenantId: string | null) =>
      sql<{ n: number }>`select count(*)::int as n from callback_tasks t
          where ${tenantId === null ? sql`true` : sql`t.tenant_id = ${tenantId}`} and ${live} and t.sla_due_at <= ${at}`.pipe(
        Effect.map((rows) => rows[0]?.n ?? 0)
      )

    /** Reconciliation: when the ticket was last read (another replica skips it until RECHECK_SECONDS pass). */
    const markChecked = (tenantId: string, id: string, at: Date) =>
      sql`update callback_tasks set external_checked_at = ${at} where tenant_id = ${tenantId} and id = ${id}`.pipe(Effect.asVoid)

    return { candidates, claim, overdueCount, markChecked } as const
  })
}) {}
