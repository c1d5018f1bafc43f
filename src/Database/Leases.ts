import type { SqlClient, Statement } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Effect } from "effect"
import type { Concurrency } from "effect/Types"
import type { Ids } from "../Ids.js"
import { orUnavailable } from "./Errors.js"

/**
 * A table of due rows that replicas claim under a lease (webhook outbox, billing outcomes,
 * analysis jobs): which columns hold the lease, and what "due" means for it.
 */
export interface LeasedTable {
  readonly table: string
  readonly leaseToken: string
  readonly leaseExpiresAt: string
  readonly attempts: string
  /** Waiting for an attempt by `now`; written so the table's partial due index serves it. */
  readonly due: (now: Date) => Statement.Fragment
  /** Oldest first, in the due index's order. */
  readonly order: Statement.Fragment
  /** Whether the claim itself sets `updated_at` (the billing columns ride on `voice_outcomes`, which keeps it for the outcome). */
  readonly claimTouchesUpdatedAt: boolean
}

/**
 * A job table of the usual shape (`status`, `next_attempt_at`, `lease_token`, `lease_expires_at`,
 * `attempts`, a partial index on `next_attempt_at where status = 'pending'`): pending rows due by now.
 */
export const pendingJobs = (sql: SqlClient.SqlClient, table: string): LeasedTable => ({
  table,
  leaseToken: "lease_token",
  leaseExpiresAt: "lease_expires_at",
  attempts: "attempts",
  due: (now) => sql`status = 'pending' and next_attempt_at <= ${now}`,
  order: sql`next_attempt_at`,
  claimTouchesUpdatedAt: true
})

/** How a statement runs: as it is (the default), or Database/HotStatement.ts's `prepared`. */
type Run = <A extends object>(statement: Statement.Statement<A>) => Effect.Effect<ReadonlyArray<A>, SqlError>

const asItIs: Run = (statement) => statement

/**
 * Claim, record and release for one leased table: the same statements for every queue. `run`
 * runs the claim and the record: a queue worked on for every call passes `prepared` (one shape
 * each, one plan for every value), so PostgreSQL parses and plans them once per connection.
 */
export const leasedTable = (sql: SqlClient.SqlClient, spec: LeasedTable, run: Run = asItIs) => {
  const table = sql(spec.table)
  const leaseToken = sql(spec.leaseToken)
  const leaseExpiresAt = sql(spec.leaseExpiresAt)
  const attempts = sql(spec.attempts)
  const touch = spec.claimTouchesUpdatedAt ? sql`, updated_at = now()` : sql``

  /**
   * Claims up to `limit` due rows not under a live lease. SKIP LOCKED lets another replica's
   * claim run at the same moment without waiting or taking the same rows; the lease keeps
   * them ours after this statement commits. `returning` reads the row as `claimed`.
   */
  const claim = <Row extends object>(returning: Statement.Fragment) =>
  (token: string, now: Date, leaseUntil: Date, limit: number) =>
    orUnavailable(run(sql<Row>`
      update ${table} claimed set ${leaseToken} = ${token}, ${leaseExpiresAt} = ${leaseUntil}${touch}
      from (
        select id from ${table}
        where ${spec.due(now)}
          and (${leaseExpiresAt} is null or ${leaseExpiresAt} <= ${now})
        order by ${spec.order}
        for update skip locked
        limit ${limit}
      ) due
      where claimed.id = due.id
      returning ${returning}`))

  /**
   * Applies `set` (one attempt's result) if `token` still holds the row's lease at `now`, returning
   * its id (no row when the lease was lost): `record`'s statement, for a one-statement write
   * (StatementParts) whose other parts apply only when it returned the row.
   */
  const recordStatement = (id: string, tenantId: string, token: string, now: Date, set: Statement.Fragment) =>
    sql<{ id: string }>`
      update ${table} set ${set}, ${attempts} = ${attempts} + 1, ${leaseToken} = null, ${leaseExpiresAt} = null,
        updated_at = now()
      where id = ${id} and tenant_id = ${tenantId} and ${leaseToken} = ${token} and ${leaseExpiresAt} > ${now}
      returning id`

  /** Applies `set` (one attempt's result) if `token` still holds the row's lease at `now`; false when it was lost. */
  const record = (id: string, tenantId: string, token: string, now: Date, set: Statement.Fragment) =>
    orUnavailable(run(recordStatement(id, tenantId, token, now, set))).pipe(Effect.map((rows) => rows.length === 1))

  /** Hands back what `token` still holds (the worker is stopping): claimable at once, not after the lease. */
  const release = (token: string) =>
    orUnavailable(sql`update ${table} set ${leaseToken} = null, ${leaseExpiresAt} = null
                      where ${leaseToken} = ${token}`).pipe(Effect.asVoid)

  return { claim, record, recordStatement, release } as const
}

/**
 * One batch of a worker: claims up to `limit` due rows under a fresh token and runs `each`
 * on them. Stopping (SIGTERM) mid-batch hands the unrecorded rows back at once for another
 * replica (one already sent may be sent again).
 */
export const forEachClaimed = <Row, A, E1, E2, R>(options: {
  readonly ids: Ids
  readonly repo: {
    readonly claim: (token: string, now: Date, leaseUntil: Date, limit: number) => Effect.Effect<ReadonlyArray<Row>, E1>
    readonly release: (token: string) => Effect.Effect<void, unknown>
  }
  readonly limit: number
  readonly leaseSeconds: number
  readonly concurrency: Concurrency
  readonly each: (row: Row, token: string) => Effect.Effect<A, E2, R>
}) =>
  Effect.gen(function*() {
    const token = yield* options.ids.uuid
    const now = yield* Clock.currentTimeMillis
    const rows = yield* options.repo.claim(token, new Date(now), new Date(now + options.leaseSeconds * 1000), options.limit)
    return yield* Effect.forEach(rows, (row) => options.each(row, token), { concurrency: options.concurrency }).pipe(
      Effect.onInterrupt(() => Effect.ignore(Effect.timeout(options.repo.release(token), "2 seconds")))
    )
  })
