import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Effect } from "effect"
import { DatabasePool } from "../Database/Client.js"
import { Readiness } from "../Health/Readiness.js"
import * as M from "./Metrics.js"

/** Every outbox table, by the name its metrics carry. The delivery worker drains them. */
/** Each outbox's pending rows: tenant webhooks by status, billing outcomes by billing status (both indexed). */
const OUTBOXES = [
  { outbox: "webhook", table: "webhook_outbox", column: "status", pending: "pending" },
  { outbox: "billing", table: "voice_outcomes", column: "billing_status", pending: "pending_emit" }
] as const

/**
 * Gauges read from outside the metric calls: outbox depth and oldest pending age (one
 * indexed aggregate per outbox, `webhook_outbox_due_idx` covers `status = 'pending'`) and the
 * pool's connections. Cross-tenant by design: an operator's view of the backlog, not a
 * tenant's data. Run before each scrape and on a timer for OTLP.
 */
export const makeGauges = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const pool = yield* DatabasePool
  const readiness = yield* Readiness

  const outboxes = Effect.forEach(OUTBOXES, ({ column, outbox, pending, table }) =>
    Effect.gen(function*() {
      const [row] = yield* sql<{ pending: number; oldest: string | null }>`
        select count(*) as pending, min(created_at) as oldest
        from ${sql(table)} where ${sql(column)} = ${pending}`
      const now = yield* Clock.currentTimeMillis
      const tags = [M.label("outbox", outbox)]
      const oldest = row?.oldest == null ? 0 : Math.max(0, (now - Date.parse(row.oldest)) / 1000)
      M.outboxPending.unsafeUpdate(row?.pending ?? 0, tags)
      M.outboxOldestAge.unsafeUpdate(oldest, tags)
    }), { discard: true })

  const poolGauges = Effect.sync(() => {
    M.dbPoolInUse.unsafeUpdate(pool.totalCount - pool.idleCount, [])
    M.dbPoolWaiting.unsafeUpdate(pool.waitingCount, [])
  })

  /** A database that is away leaves the outbox gauges at their last values (readiness reports it). */
  const ready = readiness.check.pipe(
    Effect.map((report) => (report.ready ? 1 : 0)),
    Effect.catchAllCause(() => Effect.succeed(0)),
    Effect.map((value) => M.replicaReady.unsafeUpdate(value, []))
  )

  return Effect.all([
    poolGauges,
    ready,
    outboxes.pipe(Effect.timeout("2 seconds"), Effect.catchAllCause(() => Effect.void))
  ], { concurrency: "unbounded", discard: true })
})
