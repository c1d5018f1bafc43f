import type { Statement } from "@effect/sql"
import { Effect, Schema } from "effect"
import { WebhookOutbox } from "../Outbox/WebhookOutbox.js"
import { CallbackTask } from "./Schemas.js"

/** Tenant webhook events about callback tasks; `data` is the task as the API shows it. */
export const TASK_EVENTS = {
  created: "voice.callback_task.created",
  updated: "voice.callback_task.updated",
  slaBreached: "voice.callback_task.sla_breached",
  escalated: "voice.callback_task.escalated",
  completed: "voice.callback_task.completed"
} as const
export type TaskEvent = (typeof TASK_EVENTS)[keyof typeof TASK_EVENTS]

const encodeTask = Schema.encode(CallbackTask)

/** Enqueues `event` for `task` in the caller's transaction (an outbox row commits with the change). */
export class TaskEvents extends Effect.Service<TaskEvents>()("TaskEvents", {
  effect: Effect.gen(function*() {
    const outbox = yield* WebhookOutbox
    const publish = (task: CallbackTask, event: TaskEvent, at: Date, extra: Record<string, unknown> = {}) =>
      encodeTask(task).pipe(
        Effect.orDie,
        Effect.flatMap((data) => outbox.enqueue(task.tenant_id, event, { ...data, ...extra }, at))
      )
    /** `updated`, or `completed` when this change completed the task. */
    const changed = (before: CallbackTask, after: CallbackTask, at: Date) =>
      publish(after, before.status !== "completed" && after.status === "completed" ? TASK_EVENTS.completed : TASK_EVENTS.updated, at)
    /**
     * `created` for the tasks a one-statement write inserts: `source` selects `row_id`, `msg_id`
     * (WebhookOutbox.eventIds) and `data` (the task as JSON, Repo.taskJson).
     */
    const createdPart = (url: string, tenantId: string, at: Date, now: number, source: Statement.Fragment) =>
      outbox.eventsPartAt(url, "callback_task_event", tenantId, TASK_EVENTS.created, at, null, now, source)
    return { publish, changed, createdPart, nextEventIds: outbox.nextEventIds } as const
  }),
  dependencies: [WebhookOutbox.Default]
}) {}
