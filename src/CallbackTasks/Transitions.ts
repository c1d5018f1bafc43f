import { Effect } from "effect"
import { CallbackTasks } from "./CallbackTasks.js"
import { InvalidTaskTransition } from "./Errors.js"
import type {
  AcknowledgeCallbackTaskRequest,
  AssignCallbackTaskRequest,
  CallbackTask,
  ClaimCallbackTaskRequest,
  ReleaseCallbackTaskRequest,
  SnoozeCallbackTaskRequest,
  UnsnoozeCallbackTaskRequest
} from "./Schemas.js"

const refuse = (message: string) => Effect.fail(new InvalidTaskTransition({ message }))

const isClosed = (task: CallbackTask) => task.status === "completed" || task.status === "canceled"

/** Closed tasks accept no transition; the message says which state it is in. */
const open = (task: CallbackTask, verb: string) =>
  isClosed(task) ? refuse(`task is ${task.status} and cannot be ${verb}; reopen it with PATCH status=open first`) : Effect.void

const isSnoozed = (task: CallbackTask, at: Date) => task.snoozed_until !== null && task.snoozed_until.getTime() > at.getTime()

const appendNote = (task: CallbackTask, note: string | null | undefined) =>
  note === null || note === undefined || note === "" ? {} : { notes: task.notes ? `${task.notes}\n${note}` : note }

/**
 * The operator transitions. Each runs under the task's row lock (`CallbackTasks.change`),
 * so of two operators claiming one task at once the second sees the first one's claim.
 */
export class TaskTransitions extends Effect.Service<TaskTransitions>()("TaskTransitions", {
  effect: Effect.gen(function*() {
    const tasks = yield* CallbackTasks

    const acknowledge = Effect.fn("TaskTransitions.acknowledge")(
      (tenantId: string, id: string, body: AcknowledgeCallbackTaskRequest) =>
        tasks.change(tenantId, id, (task, at) =>
          Effect.as(
            open(task, "acknowledged"),
            // Acknowledging twice keeps the first acknowledgement (who saw it first).
            task.acknowledged_at !== null
              ? appendNote(task, body.note)
              : { acknowledged_at: at, acknowledged_by: body.operator, ...appendNote(task, body.note) }
          ))
    )

    const assign = Effect.fn("TaskTransitions.assign")((tenantId: string, id: string, body: AssignCallbackTaskRequest) =>
      tasks.change(tenantId, id, (task) =>
        Effect.as(open(task, "assigned"), {
          assigned_to: body.assigned_to,
          ...(body.due_at ? { due_at: body.due_at } : {}),
          ...(body.sla_due_at ? { sla_due_at: body.sla_due_at } : {}),
          ...(body.priority !== null && body.priority !== undefined ? { priority: body.priority } : {})
        })))

    const claim = Effect.fn("TaskTransitions.claim")((tenantId: string, id: string, body: ClaimCallbackTaskRequest) =>
      tasks.change(tenantId, id, (task, at) =>
        Effect.gen(function*() {
          yield* open(task, "claimed")
          if (task.status === "in_progress") {
            if (task.assigned_to === body.operator) return null
            return yield* refuse(`task is already claimed by ${task.assigned_to ?? "another operator"}; it must be released first`)
          }
          if (isSnoozed(task, at)) {
            return yield* refuse(`task is snoozed until ${task.snoozed_until!.toISOString()}; unsnooze it first`)
          }
          // Claiming a task is seeing it: it counts as the acknowledgement when there was none.
          const seen = task.acknowledged_at === null ? { acknowledged_at: at, acknowledged_by: body.operator } : {}
          return { status: "in_progress", assigned_to: body.operator, claimed_at: at, ...seen }
        })))

    const release = Effect.fn("TaskTransitions.release")((tenantId: string, id: string, body: ReleaseCallbackTaskRequest) =>
      tasks.change(tenantId, id, (task) =>
        task.status !== "in_progress"
          ? refuse(`task is ${task.status}; only a claimed (in_progress) task can be released`)
          : Effect.succeed({ status: "open", claimed_at: null, ...(body.clear_assignee === true ? { assigned_to: null } : {}) })))

    const snooze = Effect.fn("TaskTransitions.snooze")((tenantId: string, id: string, body: SnoozeCallbackTaskRequest) =>
      tasks.change(tenantId, id, (task, at) =>
        Effect.gen(function*() {
          yield* open(task, "snoozed")
          if (body.snoozed_until.getTime() <= at.getTime()) {
            return yield* refuse(`snoozed_until must be in the future (now is ${at.toISOString()})`)
          }
          return { snoozed_until: body.snoozed_until, snooze_reason: body.reason ?? null }
        })))

    const unsnooze = Effect.fn("TaskTransitions.unsnooze")((tenantId: string, id: string, body: UnsnoozeCallbackTaskRequest) =>
      tasks.change(tenantId, id, (task, at) =>
        isSnoozed(task, at)
          ? Effect.succeed({ snoozed_until: null, snooze_reason: null, ...appendNote(task, body.note) })
          : refuse("task is not snoozed")))

    return { acknowledge, assign, claim, release, snooze, unsnooze } as const
  }),
  dependencies: [CallbackTasks.Default]
}) {}
