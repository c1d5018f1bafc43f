import * as SqlClient from "@effect/sql/SqlClient"
import type * as Statement from "@effect/sql/Statement"
import type { StatementPart } from "../Database/StatementParts.js"
import { Effect, Option, Schema } from "effect"
import { OperatorQueue, OperatorQueueStats } from "./Schemas.js"
import { piece } from "../Database/Piece.js"

/** Every column of a queue a write sets (the service merges a PUT onto the stored row). */
export interface QueueFields {
  readonly name: string
  readonly description: string | null
  readonly is_default: boolean
  readonly priority: number
  readonly sla_seconds: number | null
  readonly default_assignee: string | null
  readonly auto_dispatch_enabled: boolean
  readonly auto_dispatch_delay_seconds: number | null
  readonly auto_dispatch_max_attempts: number
  readonly auto_dispatch_retry_delay_seconds: number | null
  readonly dispatch_timezone: string | null
  readonly dispatch_window_start_hour_utc: number | null
  readonly dispatch_window_end_hour_utc: number | null
  readonly dispatch_schedule: unknown
  readonly follow_up_escalation_seconds: number | null
  readonly follow_up_escalation_queue_key: string | null
  readonly follow_up_escalation_assignee: string | null
  readonly follow_up_escalation_priority: number | null
  readonly active: boolean
  readonly metadata: unknown
}

const decodeQueues = Schema.decodeUnknown(Schema.Array(OperatorQueue))
const decodeStats = Schema.decodeUnknown(Schema.Array(OperatorQueueStats))

/** pg would send a JS array as a PostgreSQL array literal: JSON goes as text, cast to jsonb. */
const jsonb = (value: unknown) => JSON.stringify(value ?? {})

/** SQL for `operator_queues`; every statement is scoped by tenant_id. */
export class OperatorQueuesRepo extends Effect.Service<OperatorQueuesRepo>()("OperatorQueuesRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const list = (tenantId: string) =>
      sql`select * from operator_queues where tenant_id = ${tenantId} order by priority desc, queue_key`.pipe(
        Effect.flatMap(decodeQueues)
      )

    const find = (tenantId: string, queueKey: string) =>
      sql`select * from operator_queues where tenant_id = ${tenantId} and queue_key = ${queueKey}`.pipe(
        Effect.flatMap(decodeQueues),
        Effect.map((rows) => Option.fromNullable(rows[0]))
      )

    /** Locks the tenant's queue row (if any) for a read-modify-write upsert. */
    const findForUpdate = (tenantId: string, queueKey: string) =>
      sql`select * from operator_queues where tenant_id = ${tenantId} and queue_key = ${queueKey} for update`.pipe(
        Effect.flatMap(decodeQueues),
        Effect.map((rows) => Option.fromNullable(rows[0]))
      )

    const findDefault = (tenantId: string) =>
      sql`select * from operator_queues where tenant_id = ${tenantId} and is_default`.pipe(
        Effect.flatMap(decodeQueues),
        Effect.map((rows) => Option.fromNullable(rows[0]))
      )

    const clearDefault = (tenantId: string, exceptKey: string) =>
      sql`update operator_queues set is_default = false
          where tenant_id = ${tenantId} and is_default and queue_key <> ${exceptKey}`

    const upsert = (id: string, tenantId: string, queueKey: string, q: QueueFields, at: Date) =>
      sql`insert into operator_queues (id, tenant_id, queue_key, name, description, is_default, priority,
            sla_seconds, default_assignee, auto_dispatch_enabled, auto_dispatch_delay_seconds,
            auto_dispatch_max_attempts, auto_dispatch_retry_delay_seconds, dispatch_timezone,
            dispatch_window_start_hour_utc, dispatch_window_end_hour_utc, dispatch_schedule,
            follow_up_escalation_seconds, follow_up_escalation_queue_key, follow_up_escalation_assignee,
            follow_up_escalation_priority, active, metadata, created_at, updated_at)
          values (${id}, ${tenantId}, ${queueKey}, ${q.name}, ${q.description}, ${q.is_default}, ${q.priority},
            ${q.sla_seconds}, ${q.default_assignee}, ${q.auto_dispatch_enabled}, ${q.auto_dispatch_delay_seconds},
            ${q.auto_dispatch_max_attempts}, ${q.auto_dispatch_retry_delay_seconds}, ${q.dispatch_timezone},
            ${q.dispatch_window_start_hour_utc}, ${q.dispatch_window_end_hour_utc}, ${jsonb(q.dispatch_schedule)}::jsonb,
            ${q.follow_up_escalation_seconds}, ${q.follow_up_escalation_queue_key}, ${q.follow_up_escalation_assignee},
            ${q.follow_up_escalation_priority}, ${q.active}, ${jsonb(q.metadata)}::jsonb, ${at}, ${at})
          on conflict (tenant_id, queue_key) do update set
            name = excluded.name, description = excluded.description, is_default = excluded.is_default,
            priority = excluded.priority, sla_seconds = excluded.sla_seconds,
            default_assignee = excluded.default_assignee, auto_dispatch_enabled = excluded.auto_dispatch_enabled,
            auto_dispatch_delay_seconds = excluded.auto_dispatch_delay_seconds,
            auto_dispatch_max_attempts = excluded.auto_dispatch_max_attempts,
            auto_dispatch_retry_delay_seconds = excluded.auto_dispatch_retry_delay_seconds,
            dispatch_timezone = excluded.dispatch_timezone,
            dispatch_window_start_hour_utc = excluded.dispatch_window_start_hour_utc,
            dispatch_window_end_hour_utc = excluded.dispatch_window_end_hour_utc,
            dispatch_schedule = excluded.dispatch_schedule,
            follow_up_escalation_seconds = excluded.follow_up_escalation_seconds,
            follow_up_escalation_queue_key = excluded.follow_up_escalation_queue_key,
            follow_up_escalation_assignee = excluded.follow_up_escalation_assignee,
            follow_up_escalation_priority = excluded.follow_up_escalation_priority,
            active = excluded.active, metadata = excluded.metadata, updated_at = excluded.updated_at
          returning *`.pipe(Effect.flatMap(decodeQueues), Effect.map((rows) => rows[0]!))

    /** The tenant's default queue, created on first use; two replicas racing create one. */
    const ensureDefault = (id: string, tenantId: string, slaSeconds: number | null, at: Date) =>
      Effect.gen(function*() {
        const existing = yield* findDefault(tenantId)
        if (Option.isSome(existing)) return existing.value
        yield* sql`insert into operator_queues (id, tenant_id, queue_key, name, is_default, sla_seconds, created_at, updated_at)
          values (${id}, ${tenantId}, 'default', 'Default', true, ${slaSeconds}, ${at}, ${at})
          on conflict do nothing`
        // A queue keyed `default` made by hand, without the flag, becomes the default.
        yield* sql`update operator_queues set is_default = true, updated_at = ${at}
          where tenant_id = ${tenantId} and queue_key = 'default'
            and not exists (select 1 from operator_queues where tenant_id = ${tenantId} and is_default)`
        return yield* Effect.flatMap(findDefault(tenantId), (found) =>
          Option.isSome(found) ? Effect.succeed(found.value) : Effect.dieMessage("default operator queue missing after insert"))
      })

    /**
     * `ensureDefault` as parts of a one-statement write (the call's record making tasks): the
     * part `default_queue` is the tenant's default queue, made only when `onlyIf` holds. The
     * conflict update also takes a queue made concurrently, or keyed `default` by hand without
     * the flag, as `ensureDefault` does.
     */
    const defaultParts = (
      id: string,
      tenantId: string,
      slaSeconds: number | null,
      at: Date,
      onlyIf: Statement.Fragment
    ): ReadonlyArray<StatementPart> => [
      { name: "default_queue_found", statement: piece`select * from operator_queues where tenant_id = ${tenantId} and is_default` },
      {
        name: "default_queue_made",
        statement: piece`insert into operator_queues (id, tenant_id, queue_key, name, is_default, sla_seconds, created_at, updated_at)
          select ${id}::uuid, ${tenantId}, 'default', 'Default', true, ${slaSeconds}::int, ${at.toISOString()}::timestamptz,
            ${at.toISOString()}::timestamptz
          where ${onlyIf} and not exists (select 1 from "default_queue_found")
          on conflict (tenant_id, queue_key) do update set is_default = true, updated_at = excluded.updated_at
          returning *`
      },
      {
        name: "default_queue",
        statement: piece`select * from "default_queue_found" union all select * from "default_queue_made" limit 1`
      }
    ]

    /** Counts per queue; queues with no tasks are listed with zeros. Active figures come from
     * the partial index on open/in-progress tasks, the total from an index-only count (0012). */
    const stats = (tenantId: string, at: Date) =>
      sql`with active as (
            select queue_key,
              count(*) filter (where status = 'open')::int as open_tasks,
              count(*) filter (where status = 'in_progress')::int as in_progress_tasks,
              count(*) filter (where sla_due_at < ${at})::int as overdue_tasks,
              count(*) filter (where assigned_to is null)::int as unassigned_tasks,
              min(created_at) as oldest
            from callback_tasks where tenant_id = ${tenantId} and status in ('open', 'in_progress')
            group by queue_key
          ), totals as (
            select queue_key, count(*)::int as total_tasks
            from callback_tasks where tenant_id = ${tenantId} group by queue_key
          )
          select q.queue_key, q.name, q.priority, q.sla_seconds,
            coalesce(a.open_tasks, 0) as open_tasks, coalesce(a.in_progress_tasks, 0) as in_progress_tasks,
            coalesce(a.overdue_tasks, 0) as overdue_tasks, coalesce(a.unassigned_tasks, 0) as unassigned_tasks,
            coalesce(t.total_tasks, 0) as total_tasks,
            extract(epoch from (${at}::timestamptz - a.oldest))::float8 as oldest_task_age_secs
          from operator_queues q
          left join active a on a.queue_key = q.queue_key
          left join totals t on t.queue_key = q.queue_key
          where q.tenant_id = ${tenantId}
          order by q.priority desc, q.queue_key`.pipe(Effect.flatMap(decodeStats))

    return { list, find, findForUpdate, findDefault, clearDefault, upsert, ensureDefault, defaultParts, stats } as const
  })
}) {}
