import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Effect, Option } from "effect"
import { CallbackTasks } from "../CallbackTasks/CallbackTasks.js"
import { TASK_EVENTS, TaskEvents } from "../CallbackTasks/Events.js"
import type { CallbackTask } from "../CallbackTasks/Schemas.js"
import { orUnavailable } from "../Database/Errors.js"
import { OperatorQueues } from "../OperatorQueues/OperatorQueues.js"
import type { OperatorQueue } from "../OperatorQueues/Schemas.js"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { SweepsRepo } from "./Repo.js"
import { eachCandidate, type SweepOptions, tenantScope } from "./Run.js"
import { OperatorFollowUpNotificationItem, OperatorFollowUpNotificationResult } from "./Schemas.js"

export interface FollowUpOptions extends SweepOptions {
  readonly sendNotifications: boolean
}

const empty = new OperatorFollowUpNotificationResult({
  attempted_tenants: 0, evaluated_tenants: 0, candidate_tasks: 0, snoozes_expired: 0, escalations_applied: 0,
  notifications_sent: 0, webhooks_enqueued: 0, items: [], failures: []
})

const past = (date: Date | null | undefined, at: Date) => date !== null && date !== undefined && date.getTime() <= at.getTime()

/** What is due for a task, decided from the row the claim locked. */
const due = (task: CallbackTask, queue: OperatorQueue, at: Date, done: { notified: boolean; escalated: boolean }) => {
  const snoozeExpired = past(task.snoozed_until, at)
  const unacknowledged = task.acknowledged_at === null && (task.snoozed_until === null || snoozeExpired)
  const escalationDue = queue.follow_up_escalation_seconds
  const escalate = unacknowledged && escalationDue !== null && escalationDue !== undefined &&
    task.created_at.getTime() + escalationDue * 1000 <= at.getTime() && !done.escalated
  return { snoozeExpired, escalate, remind: unacknowledged && !done.notified && past(task.sla_due_at ?? task.due_at, at) }
}

/**
 * Follow-up sweep: expired snoozes wake up; an unacknowledged task past its deadline gets
 * one reminder (a webhook event, the notification channel we have); and one left
 * unacknowledged for the queue's `follow_up_escalation_seconds` moves to its escalation
 * queue, assignee and priority, once.
 */
export class FollowUpSweep extends Effect.Service<FollowUpSweep>()("FollowUpSweep", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* SweepsRepo
    const cache = yield* TenantCache
    const tasks = yield* CallbackTasks
    const queues = yield* OperatorQueues
    const events = yield* TaskEvents

    const handle = (tenantId: string, id: string, at: Date, options: FollowUpOptions) =>
      orUnavailable(sql.withTransaction(Effect.gen(function*() {
        const claimed = yield* repo.claim("followUp", tenantId, id, at)
        if (Option.isNone(claimed)) return Option.none()
        const { queue, task } = claimed.value
        const { escalate: escalateNow, remind: remindNow, snoozeExpired } = due(task, queue, at, claimed.value)
        const changes: Record<string, unknown> = {}
        if (snoozeExpired) Object.assign(changes, { snoozed_until: null, snooze_reason: null })
        if (remindNow) changes.follow_up_notified_at = at
        let escalationQueue: string | null = null
        if (escalateNow) {
          changes.follow_up_escalated_at = at
          const target = queue.follow_up_escalation_queue_key
          if (target && Option.isSome(yield* queues.find(tenantId, target))) escalationQueue = changes.queue_key = target
          if (queue.follow_up_escalation_assignee) changes.assigned_to = queue.follow_up_escalation_assignee
          if (queue.follow_up_escalation_priority !== null && queue.follow_up_escalation_priority !== undefined) {
            changes.priority = queue.follow_up_escalation_priority
          }
        }
        const after = yield* tasks.write(tenantId, id, changes, at)
        const target = after.assigned_to ?? queue.default_assignee ?? null
        const notify = remindNow && options.sendNotifications
        if (notify) yield* events.publish(after, TASK_EVENTS.updated, at, { follow_up_reminder: { reason: "unacknowledged_deadline_breached", target } })
        const emit = options.emitWebhooks && (escalateNow || snoozeExpired)
        if (emit) yield* events.publish(after, escalateNow ? TASK_EVENTS.escalated : TASK_EVENTS.updated, at)
        return Option.some(new OperatorFollowUpNotificationItem({
          tenant_id: tenantId,
          task_id: id,
          queue_key: task.queue_key,
          customer_phone: task.customer_phone ?? null,
          assigned_to: after.assigned_to ?? null,
          reason: escalateNow ? "unacknowledged_escalation_due" : remindNow ? "unacknowledged_deadline_breached" : "snooze_expired",
          escalated: escalateNow,
          escalation_queue_key: escalationQueue,
          escalation_assignee: escalateNow ? queue.follow_up_escalation_assignee ?? null : null,
          snooze_expired: snoozeExpired,
          notification_sent: notify,
          notification_channel: notify ? "webhook" : null,
          notification_target: notify ? target : null,
          webhook_enqueued: notify || emit
        }))
      })))

    const sweep = Effect.fn("FollowUpSweep.sweep")(function*(options: FollowUpOptions) {
      const scope = yield* tenantScope(cache, options.authToken)
      if (Option.isNone(scope)) return empty
      const at = new Date(yield* Clock.currentTimeMillis)
      const candidates = yield* orUnavailable(repo.candidates("followUp", at, scope.value, options.limit))
      const tally = yield* eachCandidate(candidates, (c) => handle(c.tenant_id, c.id, at, options))
      const count = (p: (item: OperatorFollowUpNotificationItem) => boolean) => tally.items.filter(p).length
      return new OperatorFollowUpNotificationResult({
        attempted_tenants: scope.value === null ? tally.attemptedTenants : 1,
        evaluated_tenants: tally.evaluatedTenants,
        candidate_tasks: candidates.length,
        snoozes_expired: count((item) => item.snooze_expired),
        escalations_applied: count((item) => item.escalated),
        notifications_sent: count((item) => item.notification_sent),
        webhooks_enqueued: count((item) => item.webhook_enqueued),
        items: tally.items,
        failures: tally.failures
      })
    })

    return { sweep } as const
  }),
  dependencies: [SweepsRepo.Default]
}) {}
