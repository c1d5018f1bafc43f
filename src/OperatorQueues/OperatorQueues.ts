import { SqlClient } from "@effect/sql"
import { Clock, Effect, Option } from "effect"
import { orRefused, orUnavailable } from "../Database/Errors.js"
import { Ids } from "../Ids.js"
import { OperationsConfig } from "./Config.js"
import { InvalidQueueInput, OperatorQueueNotFound } from "./Errors.js"
import { OperatorQueuesRepo, type QueueFields } from "./Repo.js"
import type { OperatorQueue, UpsertOperatorQueueRequest } from "./Schemas.js"

const QUEUE_KEY = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/

/** What a new queue starts with when a PUT leaves a field out. */
const DEFAULTS: Omit<QueueFields, "name"> = {
  description: null,
  is_default: false,
  priority: 0,
  sla_seconds: null,
  default_assignee: null,
  auto_dispatch_enabled: false,
  auto_dispatch_delay_seconds: null,
  auto_dispatch_max_attempts: 3,
  auto_dispatch_retry_delay_seconds: null,
  dispatch_timezone: null,
  dispatch_window_start_hour_utc: null,
  dispatch_window_end_hour_utc: null,
  dispatch_schedule: {},
  follow_up_escalation_seconds: null,
  follow_up_escalation_queue_key: null,
  follow_up_escalation_assignee: null,
  follow_up_escalation_priority: null,
  active: true,
  metadata: {}
}

/** A PUT field: absent keeps `stored`, null clears it (for nullable fields). */
const pick = <A>(given: A | undefined, stored: A): A => (given === undefined ? stored : given)

/** A stored queue as write columns (optional fields read back as null). */
const fieldsOf = (queue: OperatorQueue): QueueFields => {
  const fields: Record<string, unknown> = { name: queue.name }
  for (const key of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) fields[key] = queue[key] ?? null
  return fields as unknown as QueueFields
}

const merge = (stored: QueueFields, body: UpsertOperatorQueueRequest): QueueFields => {
  const fields = { ...stored, name: body.name }
  for (const key of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) {
    ;(fields as Record<string, unknown>)[key] = pick(body[key], stored[key])
  }
  return fields
}

/** Tenant-scoped operator queues: upsert by key, list, stats, and the default queue. */
export class OperatorQueues extends Effect.Service<OperatorQueues>()("OperatorQueues", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* OperatorQueuesRepo
    const ids = yield* Ids
    const config = yield* OperationsConfig
    const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms))

    const upsert = Effect.fn("OperatorQueues.upsert")(function*(tenantId: string, queueKey: string, body: UpsertOperatorQueueRequest) {
      if (!QUEUE_KEY.test(queueKey)) {
        return yield* new InvalidQueueInput({ message: "queue_key must be 1-128 letters, digits, '_', '.', ':' or '-'" })
      }
      const start = body.dispatch_window_start_hour_utc
      const end = body.dispatch_window_end_hour_utc
      if ((start === null || start === undefined) !== (end === null || end === undefined)) {
        return yield* new InvalidQueueInput({ message: "dispatch_window_start_hour_utc and dispatch_window_end_hour_utc go together" })
      }
      const at = yield* now
      const id = yield* ids.uuid
      return yield* orRefused(sql.withTransaction(Effect.gen(function*() {
        const stored = yield* repo.findForUpdate(tenantId, queueKey)
        const base: QueueFields = Option.match(stored, { onNone: () => ({ ...DEFAULTS, name: body.name }), onSome: fieldsOf })
        const fields = merge(base, body)
        if (fields.is_default) yield* repo.clearDefault(tenantId, queueKey)
        return yield* repo.upsert(id, tenantId, queueKey, fields, at)
      })))
    })

    const list = Effect.fn("OperatorQueues.list")((tenantId: string) => orUnavailable(repo.list(tenantId)))

    const stats = Effect.fn("OperatorQueues.stats")(function*(tenantId: string) {
      return yield* orUnavailable(repo.stats(tenantId, yield* now))
    })

    /**
     * The queue a task goes to: the named one (which must exist), else the tenant's default
     * (created on first use). Run inside the caller's transaction.
     */
    const resolve = (tenantId: string, queueKey: string | null | undefined, at: Date) =>
      Effect.gen(function*() {
        if (queueKey !== null && queueKey !== undefined) {
          const found = yield* repo.find(tenantId, queueKey)
          if (Option.isNone(found)) return yield* new OperatorQueueNotFound({ queueKey })
          return found.value
        }
        return yield* repo.ensureDefault(yield* ids.uuid, tenantId, config.defaultSlaSeconds || null, at)
      })

    const find = (tenantId: string, queueKey: string) => repo.find(tenantId, queueKey)

    return { upsert, list, stats, resolve, find } as const
  }),
  dependencies: [OperatorQueuesRepo.Default, OperationsConfig.Default]
}) {}

