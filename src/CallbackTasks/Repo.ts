import * as SqlClient from "@effect/sql/SqlClient"
import type * as Statement from "@effect/sql/Statement"
import { Effect, Option, Schema } from "effect"
import { CallbackTask, type CallbackDisposition, type CallbackTaskStatus } from "./Schemas.js"
import { piece } from "../Database/Piece.js"

const decodeTasks = Schema.decodeUnknown(Schema.Array(CallbackTask))

/** A new task, every column the service decides. */
export interface NewTask {
  readonly id: string
  readonly tenantId: string
  readonly queueKey: string
  readonly status: CallbackTaskStatus
  readonly disposition: CallbackDisposition
  readonly priority: number
  readonly streamSid: string | null
  readonly callSid: string | null
  readonly customerPhone: string | null
  readonly agentName: string | null
  readonly summary: string | null
  readonly notes: string | null
  readonly assignedTo: string | null
  readonly createdBy: string | null
  readonly metadata: unknown
  readonly dueAt: Date
  readonly slaDueAt: Date | null
  readonly sourceKey: string | null
  readonly at: Date
}

export interface TaskFilters {
  readonly tenantId?: string
  readonly status?: string
  readonly disposition?: string
  readonly streamSid?: string
  readonly queueKey?: string
  readonly overdueAt?: Date
  readonly limit: number
  readonly offset: number
}

/** Columns a change may set: their names are the table's. */
export type TaskChanges = Readonly<Record<string, unknown>>

const jsonb = (value: unknown) => JSON.stringify(value ?? {})

const iso = (column: string) => `ssv_iso(t.${column})`

/**
 * A `callback_tasks` row aliased `t` as the API shows it (`CallbackTask` encoded, every field,
 * null when unset), for the webhook event of a task written in SQL (CallbackTasks.callRuleParts).
 */
export const taskJson = `jsonb_build_object('acknowledged_at', ${iso("acknowledged_at")}, 'acknowledged_by', t.acknowledged_by,
  'agent_name', t.agent_name, 'assigned_to', t.assigned_to, 'call_sid', t.call_sid, 'claimed_at', ${iso("claimed_at")},
  'completed_at', ${iso("completed_at")}, 'created_at', ${iso("created_at")}, 'created_by', t.created_by,
  'customer_phone', t.customer_phone, 'dispatch_attempt_count', t.dispatch_attempt_count, 'disposition', t.disposition,
  'due_at', ${iso("due_at")}, 'id', t.id, 'last_dispatch_attempted_at', ${iso("last_dispatch_attempted_at")},
  'last_dispatch_call_sid', t.last_dispatch_call_sid, 'last_dispatch_status', t.last_dispatch_status,
  'last_sla_alert_due_at', ${iso("last_sla_alert_due_at")}, 'last_sla_alerted_at', ${iso("last_sla_alerted_at")},
  'metadata', t.metadata, 'notes', t.notes, 'priority', t.priority, 'queue_key', t.queue_key,
  'sla_due_at', ${iso("sla_due_at")}, 'snooze_reason', t.snooze_reason, 'snoozed_until', ${iso("snoozed_until")},
  'status', t.status, 'stream_sid', t.stream_sid, 'summary', t.summary, 'tenant_id', t.tenant_id,
  'updated_at', ${iso("updated_at")})`

/** SQL for `callback_tasks`. Tenant statements filter on tenant_id; admin listing may span tenants. */
export class CallbackTasksRepo extends Effect.Service<CallbackTasksRepo>()("CallbackTasksRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const one = (rows: ReadonlyArray<CallbackTask>) => Option.fromNullable(rows[0])

    /** Inserts the task; with a `sourceKey` already used by the tenant, nothing (the rule already fired). */
    const insert = (t: NewTask) =>
      sql`insert into callback_tasks (id, tenant_id, queue_key, status, disposition, priority, stream_sid, call_sid,
            customer_phone, agent_name, summary, notes, assigned_to, created_by, metadata, due_at, sla_due_at,
            completed_at, source_key, created_at, updated_at)
          values (${t.id}, ${t.tenantId}, ${t.queueKey}, ${t.status}, ${t.disposition}, ${t.priority}, ${t.streamSid},
            ${t.callSid}, ${t.customerPhone}, ${t.agentName}, ${t.summary}, ${t.notes}, ${t.assignedTo}, ${t.createdBy},
            ${jsonb(t.metadata)}::jsonb, ${t.dueAt}, ${t.slaDueAt},
            ${t.status === "completed" || t.status === "canceled" ? t.at : null}, ${t.sourceKey}, ${t.at}, ${t.at})
          on conflict (tenant_id, source_key) do nothing
          returning *`.pipe(Effect.flatMap(decodeTasks), Effect.map(one))

    /**
     * `insert` of call-rule tasks as a part of a one-statement write: a task per row of `wanted`
     * (`id`, `disposition`, `summary`, `due_at`, `source_key`) in the queue `queue` (a part with
     * the queue's row), with the defaults `CallbackTasks.insert` takes from the queue; `returning *`.
     */
    const insertFrom = (
      tenantId: string,
      call: { readonly streamSid: string | null; readonly callSid: string | null; readonly customerPhone: string | null; readonly agentName: string | null },
      at: Date,
      wanted: Statement.Fragment,
      queue: Statement.Fragment
    ) => {
      const when = piece`${at.toISOString()}::timestamptz`
      return piece`insert into callback_tasks (id, tenant_id, queue_key, status, disposition, priority, stream_sid, call_sid,
            customer_phone, agent_name, summary, notes, assigned_to, created_by, metadata, due_at, sla_due_at,
            completed_at, source_key, created_at, updated_at)
          select w.id, ${tenantId}, q.queue_key, 'open', w.disposition, q.priority, ${call.streamSid}, ${call.callSid},
            ${call.customerPhone}, ${call.agentName}, w.summary, null, q.default_assignee, 'call_rules', '{}'::jsonb,
            coalesce(w.due_at, ${when}), ${when} + make_interval(secs => q.sla_seconds), null, w.source_key, ${when}, ${when}
          from ${wanted} w, ${queue} q
          on conflict (tenant_id, source_key) do nothing
          returning *`
    }

    const find = (tenantId: string, id: string) =>
      sql`select * from callback_tasks where tenant_id = ${tenantId} and id = ${id}`.pipe(
        Effect.flatMap(decodeTasks),
        Effect.map(one)
      )

    const findForUpdate = (tenantId: string, id: string) =>
      sql`select * from callback_tasks where tenant_id = ${tenantId} and id = ${id} for update`.pipe(
        Effect.flatMap(decodeTasks),
        Effect.map(one)
      )

    /**
     * Applies `changes` when the row still satisfies `guard` (a SQL condition): the check and
     * the write are one statement, so of two concurrent transitions only one can match.
     */
    const update = (tenantId: string, id: string, changes: TaskChanges, guard = sql`true`) =>
      sql`update callback_tasks set ${sql.update(changes)}
          where tenant_id = ${tenantId} and id = ${id} and ${guard}
          returning *`.pipe(Effect.flatMap(decodeTasks), Effect.map(one))

    const where = (f: TaskFilters) =>
      sql.and([
        ...(f.tenantId === undefined ? [] : [sql`tenant_id = ${f.tenantId}`]),
        ...(f.status === undefined ? [] : [sql`status = ${f.status}`]),
        ...(f.disposition === undefined ? [] : [sql`disposition = ${f.disposition}`]),
        ...(f.streamSid === undefined ? [] : [sql`stream_sid = ${f.streamSid}`]),
        ...(f.queueKey === undefined ? [] : [sql`queue_key = ${f.queueKey}`]),
        ...(f.overdueAt === undefined
          ? []
          : [sql`status in ('open', 'in_progress') and sla_due_at < ${f.overdueAt}`])
      ])

    const list = (f: TaskFilters) =>
      sql`select * from callback_tasks where ${where(f)}
          order by priority desc, created_at desc, id limit ${f.limit} offset ${f.offset}`.pipe(Effect.flatMap(decodeTasks))

    const count = (f: TaskFilters) =>
      sql<{ n: number }>`select count(*)::int as n from callback_tasks where ${where(f)}`.pipe(
        Effect.map((rows) => rows[0]?.n ?? 0)
      )

    /** A status callback of a call auto-dispatch placed, recorded on its task; false when no task placed it. */
    const recordDispatchStatus = (tenantId: string, callSid: string, status: string, at: Date) =>
      // A machine's answer is kept: the "completed" that follows it is not a customer reached.
      sql`update callback_tasks set updated_at = ${at},
            last_dispatch_status = case when last_dispatch_status = 'voicemail' then 'voicemail' else ${status} end
          where tenant_id = ${tenantId} and last_dispatch_call_sid = ${callSid} returning id`.pipe(
        Effect.map((rows) => rows.length > 0)
      )

    return { insert, insertFrom, find, findForUpdate, update, list, count, recordDispatchStatus } as const
  })
}) {}
