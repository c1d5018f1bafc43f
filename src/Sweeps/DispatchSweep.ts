import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Effect, Option, Schema } from "effect"
import { CallbackTasks } from "../CallbackTasks/CallbackTasks.js"
import { TASK_EVENTS, TaskEvents } from "../CallbackTasks/Events.js"
import { orUnavailable } from "../Database/Errors.js"
import { OutboundCalls } from "../Outbound/OutboundCalls.js"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { insideDispatchWindow } from "./DispatchWindow.js"
import { SweepsRepo } from "./Repo.js"
import { eachCandidate, type SweepOptions, tenantScope } from "./Run.js"
import { OperatorCallbackDispatchItem, OperatorCallbackDispatchResult } from "./Schemas.js"

export interface DispatchOptions extends SweepOptions {
  readonly dryRun: boolean
}

class DispatchFailed extends Schema.TaggedError<DispatchFailed>()("DispatchFailed", { message: Schema.String }) {}

const empty = new OperatorCallbackDispatchResult({
  attempted_tenants: 0, evaluated_tenants: 0, eligible_tasks: 0, dispatched_tasks: 0, dry_run_tasks: 0, items: [], failures: []
})

/**
 * Auto-dispatch: open tasks with a phone number in queues with auto-dispatch on, inside the
 * dispatch window, past the queue's delay, under its attempt limit and past the retry delay,
 * are called back as outbound AI calls. The attempt is recorded (`dialing`) and committed
 * before Twilio is asked, under the task's row lock, so a second replica never dials it too;
 * a dial whose result never arrives is retried after a lease (DIAL_LEASE_SECONDS).
 */
export class DispatchSweep extends Effect.Service<DispatchSweep>()("DispatchSweep", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* SweepsRepo
    const cache = yield* TenantCache
    const tasks = yield* CallbackTasks
    const events = yield* TaskEvents
    const outbound = yield* OutboundCalls

    /** Claims the attempt; None when another replica has it or the window is closed. */
    const begin = (tenantId: string, id: string, at: Date, dryRun: boolean) =>
      orUnavailable(sql.withTransaction(Effect.gen(function*() {
        const claimed = yield* repo.claim("dispatch", tenantId, id, at)
        if (Option.isNone(claimed) || !insideDispatchWindow(claimed.value.queue, at)) return Option.none()
        const { task } = claimed.value
        if (dryRun) return Option.some(task)
        return Option.some(yield* tasks.write(tenantId, id, {
          dispatch_attempt_count: task.dispatch_attempt_count + 1,
          last_dispatch_attempted_at: at,
          last_dispatch_status: "dialing"
        }, at))
      })))

    const finish = (tenantId: string, id: string, changes: Record<string, unknown>, emit: boolean) =>
      Effect.gen(function*() {
        const at = new Date(yield* Clock.currentTimeMillis)
        return yield* orUnavailable(sql.withTransaction(Effect.gen(function*() {
          const after = yield* tasks.write(tenantId, id, changes, at)
          if (emit) yield* events.publish(after, TASK_EVENTS.updated, at)
          return after
        })))
      })

    const dial = (tenantId: string, to: string, agentName: string | null) =>
      Effect.gen(function*() {
        const tenant = yield* cache.get(tenantId)
        if (Option.isNone(tenant)) return yield* new DispatchFailed({ message: "tenant not found or out of service" })
        return yield* outbound.makeCall(tenant.value, { to, from: null, agentKey: null, agentVersionId: null, agentName, greeting: null })
      }).pipe(Effect.mapError((error) => new DispatchFailed({ message: error.message })))

    const sweep = Effect.fn("DispatchSweep.sweep")(function*(options: DispatchOptions) {
      const scope = yield* tenantScope(cache, options.authToken)
      if (Option.isNone(scope)) return empty
      const at = new Date(yield* Clock.currentTimeMillis)
      const candidates = yield* orUnavailable(repo.candidates("dispatch", at, scope.value, options.limit))
      let eligible = 0
      const tally = yield* eachCandidate(candidates, (c) =>
        Effect.gen(function*() {
          const started = yield* begin(c.tenant_id, c.id, at, options.dryRun)
          if (Option.isNone(started)) return Option.none()
          eligible++
          const task = started.value
          const item = (callSid: string | null) =>
            new OperatorCallbackDispatchItem({
              tenant_id: c.tenant_id, task_id: c.id, queue_key: task.queue_key, customer_phone: task.customer_phone ?? null,
              dispatch_attempt_count: task.dispatch_attempt_count, dry_run: options.dryRun, call_sid: callSid
            })
          if (options.dryRun) return Option.some(item(null))
          const call = yield* dial(c.tenant_id, task.customer_phone!, task.agent_name ?? null).pipe(
            Effect.tapError(() => finish(c.tenant_id, c.id, { last_dispatch_status: "failed" }, false))
          )
          yield* finish(c.tenant_id, c.id, { last_dispatch_status: "initiated", last_dispatch_call_sid: call.callSid }, options.emitWebhooks)
          return Option.some(item(call.callSid))
        }))
      return new OperatorCallbackDispatchResult({
        attempted_tenants: scope.value === null ? tally.attemptedTenants : 1,
        evaluated_tenants: tally.evaluatedTenants,
        eligible_tasks: eligible,
        dispatched_tasks: options.dryRun ? 0 : tally.items.length,
        dry_run_tasks: options.dryRun ? tally.items.length : 0,
        items: tally.items,
        failures: tally.failures
      })
    })

    return { sweep } as const
  }),
  dependencies: [SweepsRepo.Default]
}) {}
