import { SqlClient } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
import { CallbackTask, type CallbackDisposition, type CallbackTaskStatus } from "./Schemas.js"

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

    return { insert, find, findForUpdate, update, list, count, recordDispatchStatus } as const
  })
}) {}
