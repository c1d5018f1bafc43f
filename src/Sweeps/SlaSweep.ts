import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Effect, Option } from "effect"
import { CallbackTasks } from "../CallbackTasks/CallbackTasks.js"
import { TASK_EVENTS, TaskEvents } from "../CallbackTasks/Events.js"
import { orUnavailable } from "../Database/Errors.js"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { SweepsRepo } from "./Repo.js"
import { eachCandidate, type SweepOptions, tenantScope } from "./Run.js"
import { OperatorQueueSweepItem, OperatorQueueSweepResult } from "./Schemas.js"

const empty = new OperatorQueueSweepResult({
  alerts_recorded: 0, attempted_tenants: 0, evaluated_tenants: 0, failures: [], items: [], overdue_tasks: 0, webhooks_enqueued: 0
})

/**
 * SLA sweep: a live task past `sla_due_at` gets one alert per due time (recorded in
 * `last_sla_alert_due_at`, so moving the SLA arms it again) and a `sla_breached` event.
 */
export class SlaSweep extends Effect.Service<SlaSweep>()("SlaSweep", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* SweepsRepo
    const cache = yield* TenantCache
    const tasks = yield* CallbackTasks
    const events = yield* TaskEvents

    const alert = (tenantId: string, id: string, at: Date, emit: boolean) =>
      orUnavailable(sql.withTransaction(Effect.gen(function*() {
        const claimed = yield* repo.claim("sla", tenantId, id, at)
        if (Option.isNone(claimed)) return Option.none()
        const task = claimed.value.task
        const after = yield* tasks.write(tenantId, id, { last_sla_alert_due_at: task.sla_due_at, last_sla_alerted_at: at }, at)
        if (emit) yield* events.publish(after, TASK_EVENTS.slaBreached, at)
        return Option.some(new OperatorQueueSweepItem({
          tenant_id: tenantId,
          task_id: id,
          sla_due_at: task.sla_due_at!,
          queue_key: task.queue_key,
          assigned_to: task.assigned_to ?? null,
          customer_phone: task.customer_phone ?? null,
          stream_sid: task.stream_sid ?? null,
          webhook_enqueued: emit
        }))
      })))

    const sweep = Effect.fn("SlaSweep.sweep")(function*(options: SweepOptions) {
      const scope = yield* tenantScope(cache, options.authToken)
      if (Option.isNone(scope)) return empty
      const at = new Date(yield* Clock.currentTimeMillis)
      const candidates = yield* orUnavailable(repo.candidates("sla", at, scope.value, options.limit))
      const tally = yield* eachCandidate(candidates, (c) => alert(c.tenant_id, c.id, at, options.emitWebhooks))
      return new OperatorQueueSweepResult({
        attempted_tenants: scope.value === null ? tally.attemptedTenants : 1,
        evaluated_tenants: tally.evaluatedTenants,
        overdue_tasks: yield* orUnavailable(repo.overdueCount(at, scope.value)),
        alerts_recorded: tally.items.length,
        webhooks_enqueued: tally.items.filter((item) => item.webhook_enqueued).length,
        items: tally.items,
        failures: tally.failures
      })
    })

    return { sweep } as const
  }),
  dependencies: [SweepsRepo.Default]
}) {}
