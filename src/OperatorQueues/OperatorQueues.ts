import * as SqlClient from "@effect/sql/SqlClient"
import type * as Statement from "@effect/sql/Statement"
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
const fieldsOf = (queue: OperatorQueue): QueueFields => ({
  name: queue.name,
  description: queue.description ?? null,
  is_default: queue.is_default,
  priority: queue.priority,
  sla_seconds: queue.sla_seconds ?? null,
  default_assignee: queue.default_assignee ?? null,
  auto_dispatch_enabled: queue.auto_dispatch_enabled,
  auto_dispatch_delay_seconds: queue.auto_dispatch_delay_seconds ?? null,
  auto_dispatch_max_attempts: queue.auto_dispatch_max_attempts,
  auto_dispatch_retry_delay_seconds: queue.auto_dispatch_retry_delay_seconds ?? null,
  dispatch_timezone: queue.dispatch_timezone ?? null,
  dispatch_window_start_hour_utc: queue.dispatch_window_start_hour_utc ?? null,
  dispatch_window_end_hour_utc: queue.dispatch_window_end_hour_utc ?? null,
  dispatch_schedule: queue.dispatch_schedule,
  follow_up_escalation_seconds: queue.follow_up_escalation_seconds ?? null,
  follow_up_escalation_queue_key: queue.follow_up_escalation_queue_key ?? null,
  follow_up_escalation_assignee: queue.follow_up_escalation_assignee ?? null,
  follow_up_escalation_priority: queue.follow_up_escalation_priority ?? null,
  active: queue.active,
  metadata: queue.metadata,
})

const merge = (stored: QueueFields, body: UpsertOperatorQueueRequest): QueueFields => ({
  name: body.name,
  description: pick(body.description, stored.description),
  is_default: pick(body.is_default, stored.is_default),
  priority: pick(body.priority, stored.priority),
  sla_seconds: pick(body.sla_seconds, stored.sla_seconds),
  default_assignee: pick(body.default_assignee, stored.default_assignee),
  auto_dispatch_enabled: pick(body.auto_dispatch_enabled, stored.auto_dispatch_enabled),
  auto_dispatch_delay_seconds: pick(body.auto_dispatch_delay_seconds, stored.auto_dispatch_delay_seconds),
  auto_dispatch_max_attempts: pick(body.auto_dispatch_max_attempts, stored.auto_dispatch_max_attempts),
  auto_dispatch_retry_delay_seconds: pick(body.auto_dispatch_retry_delay_seconds, stored.auto_dispatch_retry_delay_seconds),
  dispatch_timezone: pick(body.dispatch_timezone, stored.dispatch_timezone),
  dispatch_window_start_hour_utc: pick(body.dispatch_window_start_hour_utc, stored.dispatch_window_start_hour_utc),
  dispatch_window_end_hour_utc: pick(body.dispatch_window_end_hour_utc, stored.dispatch_window_end_hour_utc),
  dispatch_schedule: pick(body.dispatch_schedule, stored.dispatch_schedule),
  follow_up_escalation_seconds: pick(body.follow_up_escalation_seconds, stored.follow_up_escalation_seconds),
  follow_up_escalation_queue_key: pick(body.follow_up_escalation_queue_key, stored.follow_up_escalation_queue_key),
  follow_up_escalation_assignee: pick(body.follow_up_escalation_assignee, stored.follow_up_escalation_assignee),
  follow_up_escalation_priority: pick(body.follow_up_escalation_priority, stored.follow_up_escalation_priority),
  active: pick(body.active, stored.active),
  metadata: pick(body.metadata, stored.metadata),
})

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

    /**
     * `resolve` of the default queue as parts of a one-statement write: the part `default_queue`.
     * Plain code: built on every call's record.
     */
    const defaultQueueParts = (tenantId: string, at: Date, onlyIf: Statement.Fragment) =>
      repo.defaultParts(ids.nextUuid(), tenantId, config.defaultSlaSeconds || null, at, onlyIf)

    return { upsert, list, stats, resolve, find, defaultQueueParts } as const
  }),
  dependencies: [OperatorQueuesRepo.Default, OperationsConfig.Default]
}) {}

