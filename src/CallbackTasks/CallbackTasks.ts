import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Effect, Option } from "effect"
import { orNothing, orRefused } from "../Database/Errors.js"
import type { StatementPart } from "../Database/StatementParts.js"
import { Ids } from "../Ids.js"
import { OperatorQueues } from "../OperatorQueues/OperatorQueues.js"
import { CallbackTaskNotFound } from "./Errors.js"
import { TASK_EVENTS, TaskEvents } from "./Events.js"
import { CallbackTasksRepo, type TaskChanges, type TaskFilters, taskJson } from "./Repo.js"
import type { CallbackDisposition, CallbackTask, CallbackTaskStatus, CreateCallbackTaskRequest, UpdateCallbackTaskRequest } from "./Schemas.js"
import { piece } from "../Database/Piece.js"

/** The default queue part of `callRuleParts`, by name. */
const DEFAULT_QUEUE = piece`"default_queue"`

export const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)

/** What a new task says; defaults come from its queue. */
export interface TaskInput {
  readonly disposition: CallbackDisposition
  readonly queueKey?: string | null
  readonly status?: CallbackTaskStatus | null
  readonly priority?: number | null
  readonly streamSid?: string | null
  readonly callSid?: string | null
  readonly customerPhone?: string | null
  readonly agentName?: string | null
  readonly summary?: string | null
  readonly notes?: string | null
  readonly assignedTo?: string | null
  readonly createdBy?: string | null
  readonly metadata?: unknown
  readonly dueAt?: Date | null
  readonly slaDueAt?: Date | null
  /** Tasks made by call rules: one per key and tenant. */
  readonly sourceKey?: string | null
}

const fromRequest = (body: CreateCallbackTaskRequest): TaskInput => ({
  disposition: body.disposition,
  queueKey: body.queue_key,
  status: body.status,
  priority: body.priority,
  streamSid: body.stream_sid,
  callSid: body.call_sid,
  customerPhone: body.customer_phone,
  agentName: body.agent_name,
  summary: body.summary,
  notes: body.notes,
  assignedTo: body.assigned_to,
  createdBy: body.created_by ?? "api",
  metadata: body.metadata,
  dueAt: body.due_at,
  slaDueAt: body.sla_due_at
})

/** The columns a PATCH sets; absent fields stay, null clears a nullable one. */
const patchChanges = (body: UpdateCallbackTaskRequest, task: CallbackTask, at: Date): Record<string, unknown> => {
  const changes: Record<string, unknown> = {}
  const copy = ["assigned_to", "notes", "summary", "sla_due_at"] as const
  for (const key of copy) if (body[key] !== undefined) changes[key] = body[key]
  for (const key of ["disposition", "priority", "due_at", "metadata"] as const) {
    if (body[key] !== undefined && body[key] !== null) changes[key] = key === "metadata" ? JSON.stringify(body[key]) : body[key]
  }
  const status = body.status
  if (status !== undefined && status !== null && status !== task.status) {
    changes.status = status
    if (status === "completed" || status === "canceled") changes.completed_at = at
    if (status === "open") Object.assign(changes, { completed_at: null, claimed_at: null })
    if (status === "in_progress") Object.assign(changes, { completed_at: null, claimed_at: task.claimed_at ?? at })
  }
  return changes
}

/** The call a rule's task is about. */
export interface CallRuleTaskCall {
  readonly streamSid: string | null
  readonly callSid: string | null
  readonly customerPhone: string | null
  readonly agentName: string | null
}

/** Callback tasks of a tenant: create, read, list, patch; every change announces itself as a webhook event. */
export class CallbackTasks extends Effect.Service<CallbackTasks>()("CallbackTasks", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* CallbackTasksRepo
    const queues = yield* OperatorQueues
    const events = yield* TaskEvents
    const ids = yield* Ids
    const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))

    /** Inside the caller's transaction: the task, or none when its `sourceKey` was used before. */
    const insert = (tenantId: string, input: TaskInput, at: Date) =>
      Effect.gen(function*() {
        const queue = yield* queues.resolve(tenantId, input.queueKey, at)
        const sla = queue.sla_seconds ?? null
        const created = yield* repo.insert({
          id: yield* ids.uuid,
          tenantId,
          queueKey: queue.queue_key,
          status: input.status ?? "open",
          disposition: input.disposition,
          priority: input.priority ?? queue.priority,
          streamSid: input.streamSid ?? null,
          callSid: input.callSid ?? null,
          customerPhone: input.customerPhone ?? null,
          agentName: input.agentName ?? null,
          summary: input.summary ?? null,
          notes: input.notes ?? null,
          assignedTo: input.assignedTo ?? queue.default_assignee ?? null,
          createdBy: input.createdBy ?? null,
          metadata: input.metadata ?? {},
          dueAt: input.dueAt ?? at,
          slaDueAt: input.slaDueAt ?? (sla === null ? null : new Date(at.getTime() + sla * 1000)),
          sourceKey: input.sourceKey ?? null,
          at
        })
        if (Option.isSome(created)) yield* events.publish(created.value, TASK_EVENTS.created, at)
        return created
      })

    /**
     * `insert` of call-rule tasks as parts of a one-statement write (the call's record, via
     * CallTasks): a task per row of the part `wanted` (`id`, `disposition`, `summary`, `due_at`,
     * `source_key`, and `event_row_id`/`event_msg_id` from `eventIds`) in the tenant's default
     * queue (made if need be), and its `created` event (due at `now`) for a tenant whose webhook
     * URL is `url`; none when `source_key` was used before. Plain code: on every call's record.
     */
    const callRuleParts = (
      url: string | undefined,
      tenantId: string,
      call: CallRuleTaskCall,
      at: Date,
      now: number,
      wanted: string
    ): ReadonlyArray<StatementPart> => {
      const parts = [
        ...queues.defaultQueueParts(tenantId, at, piece`exists (select 1 from ${sql(wanted)})`),
        { name: "callback_task", statement: repo.insertFrom(tenantId, call, at, piece`${sql(wanted)}`, DEFAULT_QUEUE) }
      ]
      if (url !== undefined) {
        parts.push(events.createdPart(url, tenantId, at, now, piece`
          select w.event_row_id as row_id, w.event_msg_id as msg_id, ${sql.literal(taskJson)} as data
          from "callback_task" t join ${sql(wanted)} w on w.id = t.id`))
      }
      return parts
    }

    const create = Effect.fn("CallbackTasks.create")(function*(tenantId: string, body: CreateCallbackTaskRequest) {
      const at = yield* now
      const created = yield* orRefused(sql.withTransaction(insert(tenantId, fromRequest(body), at)))
      return Option.isSome(created) ? created.value : yield* Effect.dieMessage("task without a source key not inserted")
    })

    const get = Effect.fn("CallbackTasks.get")(function*(tenantId: string, id: string) {
      const found = isUuid(id) ? yield* orNothing(repo.find(tenantId, id), Option.none()) : Option.none()
      return Option.isSome(found) ? found.value : yield* new CallbackTaskNotFound({ id })
    })

    const list = Effect.fn("CallbackTasks.list")((filters: TaskFilters) => orNothing(repo.list(filters), []))

    const listAdmin = Effect.fn("CallbackTasks.listAdmin")((filters: TaskFilters) =>
      orNothing(Effect.all({ tasks: repo.list(filters), count: repo.count(filters) }), { tasks: [], count: 0 }))

    /**
     * Locks the task, lets `decide` say what changes (none: answer the task as it is), writes
     * the change and its event in the same transaction.
     */
    const change = <E, R>(
      tenantId: string,
      id: string,
      decide: (task: CallbackTask, at: Date) => Effect.Effect<TaskChanges | null, E, R>,
      emit = true
    ) =>
      Effect.gen(function*() {
        if (!isUuid(id)) return yield* new CallbackTaskNotFound({ id })
        const at = yield* now
        return yield* orRefused(sql.withTransaction(Effect.gen(function*() {
          const task = yield* repo.findForUpdate(tenantId, id)
          if (Option.isNone(task)) return yield* new CallbackTaskNotFound({ id })
          const changes = yield* decide(task.value, at)
          if (changes === null || Object.keys(changes).length === 0) return task.value
          const after = yield* repo.update(tenantId, id, { ...changes, updated_at: at })
          if (Option.isNone(after)) return yield* Effect.dieMessage("locked task vanished")
          if (emit) yield* events.changed(task.value, after.value, at)
          return after.value
        })))
      })

    const update = Effect.fn("CallbackTasks.update")((tenantId: string, id: string, body: UpdateCallbackTaskRequest) =>
      change(tenantId, id, (task, at) =>
        Effect.gen(function*() {
          const changes = patchChanges(body, task, at)
          if (body.queue_key !== undefined && body.queue_key !== null && body.queue_key !== task.queue_key) {
            changes.queue_key = (yield* queues.resolve(tenantId, body.queue_key, at)).queue_key
          }
          return changes
        })))

    /** Inside the caller's transaction (a sweep that holds the task's lock): the changed task. */
    const write = (tenantId: string, id: string, changes: TaskChanges, at: Date) =>
      Effect.flatMap(repo.update(tenantId, id, { ...changes, updated_at: at }), (after) =>
        Option.isSome(after) ? Effect.succeed(after.value) : Effect.dieMessage("locked task vanished"))

    const recordDispatchStatus = repo.recordDispatchStatus

    return { insert, callRuleParts, create, get, list, listAdmin, change, update, write, recordDispatchStatus, now } as const
  }),
  dependencies: [CallbackTasksRepo.Default, OperatorQueues.Default, TaskEvents.Default]
}) {}

