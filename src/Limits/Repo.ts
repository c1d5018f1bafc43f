import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import type { CallSeen } from "../CallLogs/Writes.js"
import { makeExecute } from "../Database/HotStatement.js"

/**
 * The admissions of the calls the ledger now shows (`live_calls` rows inserted in the same
 * statement: `ledgerPart` names a CTE of their `tenant_id` and `call_sid`). `call_counts` counts an
 * admission only while the ledger does not show its call, so from then on it counted nothing, yet
 * every admission of the tenant for CALL_ADMISSION_TTL_SECS still probed the whole ledger for it,
 * under the tenant's lock: ~0.3 ms per call admitted in the last 90 s (137 ms per webhook after 476
 * calls; the webhooks of a burst wait for each other's). Deleted here, the admissions left are the
 * calls still between their webhook and their stream's start. A part of the ledger's statement
 * (LiveCallsRepo.insertRedeemingBatch), so the count never sees a call twice or not at all.
 */
export const admissionsSettled = (sql: SqlClient.SqlClient, ledgerPart: string) =>
  sql`delete from call_admissions a using ${sql(ledgerPart)} s
      where a.tenant_id = s.tenant_id and a.call_sid = s.call_sid`

/**
 * Target-list item that makes the statement's own transaction commit without waiting for its WAL
 * flush (`synchronous_commit = off` for that transaction only; set_config's `true` = SET LOCAL).
 * For the inbound admission alone: it holds the tenant's advisory lock until its commit, so with
 * a synchronous commit every admission of a tenant, across replicas, waited for the one before it
 * to fdatasync (bench/RESULTS.md, "The database side of call set-up"). Visibility and lock order
 * are unchanged: the admission is seen by the next one exactly when it was before; only its
 * durability is deferred.
 *
 * What a PostgreSQL crash then loses: the admissions (with the call log's first sighting written
 * in the same statement, and its rollup counts) committed in the last 3 x wal_writer_delay (600 ms
 * at the default) before the crash, and only those followed by no synchronous commit on the server
 * (any later one, e.g. the same call's stream start, flushes all earlier WAL). Why that is
 * acceptable: their webhooks were answered, so those calls go on to their stream's start, whose
 * synchronous statement enters them in the ledger (counted from then on) and whose record
 * writes the call log row (upsert on the call SID: the call is recorded once, its first_seen_at
 * then being the stream's start); until then (a second or so after PostgreSQL is back, and no
 * longer than CALL_ADMISSION_TTL_SECS) those calls are not counted against the caps, so a tenant
 * may briefly exceed its cap by at most the calls admitted in that window. A crash already fails
 * every set-up and ledger write in flight. Refusals write nothing here; the single-use stream
 * token (LiveCallsRepo.insertRedeemingBatch) and the call's record keep synchronous commits.
 */
export const commitWithoutFlush = "set_config('synchronous_commit', 'off', true)"

export interface CallCounts {
  readonly tenant: number
  readonly replica: number
}

/** SQL for the limits (migrations/0011_limits.sql); the admission statements run under `lockTenant`. */
export class LimitsRepo extends Effect.Service<LimitsRepo>()("LimitsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    // The inbound webhook's admission runs on every call: without the per-statement wrapping, and
    // prepared by name (one function call: its plan does not depend on the values).
    const execute = (yield* makeExecute(sql)).prepared

    /** Serialises admissions of one tenant across replicas until the transaction ends. */
    const lockTenant = (tenantId: string) =>
      sql`select pg_advisory_xact_lock(hashtext(${`call-admission:${tenantId}`}))`.pipe(Effect.asVoid)

    /**
     * Serialises admissions on one replica (its per-replica cap) until the transaction ends;
     * taken after `lockTenant`, as `admit_inbound_call` does (migrations/0020_call_admission.sql).
     */
    const lockReplica = (replicaId: string) =>
      sql`select pg_advisory_xact_lock(20, hashtext(${replicaId}))`.pipe(Effect.asVoid)

    /**
     * Calls of the tenant (and of this replica) now: the live-call ledger plus admissions the
     * ledger does not show yet (`call_counts`, migrations/0020_call_admission.sql).
     */
    const callCounts = (tenantId: string, replicaId: string, cutoff: Date) =>
      sql<{ tenant: number; replica: number }>`
        select tenant, replica from call_counts(${tenantId}, ${replicaId}, ${cutoff})`.pipe(
        Effect.map((rows): CallCounts => rows[0] ?? { tenant: 0, replica: 0 })
      )

    /**
     * `callCounts` without the admissions reserved ahead (Limits/AdmissionsAhead.ts: inbound, no
     * call SID yet): those hold slots against the caps but are nobody's call. One statement, so
     * a reservation taken meanwhile is in both counts or in neither (call_counts is stable: it
     * reads with the statement's snapshot).
     */
    const callsOnly = (tenantId: string, replicaId: string, cutoff: Date) =>
      sql<{ tenant: number; replica: number }>`
        select c.tenant - r.tenant as tenant, c.replica - r.replica as replica
        from call_counts(${tenantId}, ${replicaId}, ${cutoff}) c,
          (select (count(*) filter (where tenant_id = ${tenantId}))::int as tenant,
                  (count(*) filter (where replica_id = ${replicaId}))::int as replica
           from call_admissions
           where (tenant_id = ${tenantId} or replica_id = ${replicaId}) and direction = 'inbound'
             and call_sid is null and admitted_at > ${cutoff}) r`.pipe(
        Effect.map((rows): CallCounts => rows[0] ?? { tenant: 0, replica: 0 })
      )

    /**
     * An inbound call's whole admission in one statement (no budget to check): the ids, or why not.
     * Its transaction commits without waiting for the WAL flush (`commitWithoutFlush`).
     */
    const admitInbound = (input: {
      readonly id: string
      readonly tenantId: string
      readonly replicaId: string
      readonly callSid: string
      readonly at: Date
      readonly cutoff: Date
      readonly maxTenant: number
      readonly maxReplica: number
    }) =>
      sql<{ admitted: ReadonlyArray<string> | null; refusal: string | null; tenant_calls: number | null }>`
        select admitted, refusal, tenant_calls, ${sql.unsafe(commitWithoutFlush)} from admit_inbound_call(
          ${input.id}, ${input.tenantId}, ${input.replicaId}, ${input.callSid}, ${input.at}, ${input.cutoff},
          ${input.maxTenant}, ${input.maxReplica})`.pipe(
        Effect.map((rows) => rows[0] ?? { admitted: null, refusal: null, tenant_calls: null })
      )

    /**
     * `admitInbound` that, when it lets the call through, also records the call log's first
     * sighting (`call_log_seen`) in the same statement: the inbound webhook's one round trip.
     */
    const admitInboundSeen = (input: Parameters<typeof admitInbound>[0], logId: string, seen: CallSeen) =>
      execute(sql<{ admitted: ReadonlyArray<string> | null; refusal: string | null; tenant_calls: number | null }>`
        select admitted, refusal, tenant_calls, ${sql.unsafe(commitWithoutFlush)} from admit_inbound_call_seen(
          ${input.id}, ${input.tenantId}, ${input.replicaId}, ${input.callSid}, ${input.at}, ${input.cutoff},
          ${input.maxTenant}, ${input.maxReplica},
          ${logId}, ${seen.from}, ${seen.to}, ${seen.agentVersionId}, ${seen.twilioStatus})`).pipe(
        Effect.map((rows) => rows[0] ?? { admitted: null, refusal: null, tenant_calls: null })
      )

    /** The call log's first sighting alone, inside an admission's transaction (`call_log_seen`). */
    const callLogSeen = (logId: string, seen: CallSeen) =>
      sql`select call_log_seen(${logId}, ${seen.tenantId}, ${seen.callSid}, ${seen.direction}, ${seen.from}, ${seen.to},
                               ${seen.agentVersionId}, ${seen.twilioStatus}, ${seen.at})`.pipe(Effect.asVoid)

    const hits = (tenantId: string, name: string, windowStart: Date) =>
      sql<{ hits: number }>`
        select hits from limit_counters
        where tenant_id = ${tenantId} and name = ${name} and window_start = ${windowStart}`.pipe(
        Effect.map((rows) => rows[0]?.hits ?? 0)
      )

    const bump = (tenantId: string, name: string, windowStart: Date, by: number) =>
      sql`
        insert into limit_counters (tenant_id, name, window_start, hits) values (${tenantId}, ${name}, ${windowStart}, ${by})
        on conflict (tenant_id, name, window_start) do update set hits = limit_counters.hits + ${by}`.pipe(Effect.asVoid)

    /** Call minutes since `since`, each call rounded up to a whole minute as carriers bill. */
    const minutesSince = (tenantId: string, since: Date) =>
      sql<{ minutes: number }>`
        select coalesce(sum(ceil(duration_seconds / 60.0)), 0)::int as minutes from call_logs
        where tenant_id = ${tenantId} and started_at >= ${since} and duration_seconds is not null`.pipe(
        Effect.map((rows) => rows[0]?.minutes ?? 0)
      )

    /** True the first time a threshold is reached this month (the caller then sends the event). */
    const firstNotice = (tenantId: string, month: string, threshold: number, at: Date) =>
      sql<{ threshold: number }>`
        insert into budget_notices (tenant_id, month, threshold, sent_at)
        values (${tenantId}, ${month}::date, ${threshold}, ${at})
        on conflict do nothing returning threshold`.pipe(Effect.map((rows) => rows.length > 0))

    const admit = (id: string, tenantId: string, replicaId: string, direction: string, callSid: string | null, at: Date) =>
      sql`
        insert into call_admissions (id, tenant_id, replica_id, direction, call_sid, admitted_at)
        values (${id}, ${tenantId}, ${replicaId}, ${direction}, ${callSid}, ${at})`.pipe(Effect.asVoid)

    /** The admission of an inbound call already let through (Twilio retries a webhook with the same SID). */
    const admittedCall = (tenantId: string, callSid: string) =>
      sql<{ id: string }>`select id from call_admissions where tenant_id = ${tenantId} and call_sid = ${callSid}`.pipe(
        Effect.map((rows) => rows.map((row) => row.id))
      )

    const attach = (tenantId: string, id: string, callSid: string) =>
      sql`update call_admissions set call_sid = ${callSid} where tenant_id = ${tenantId} and id = ${id}`.pipe(Effect.asVoid)

    const release = (tenantId: string, id: string) =>
      sql`delete from call_admissions where tenant_id = ${tenantId} and id = ${id}`.pipe(Effect.asVoid)

    /** Housekeeping across tenants: expired admissions and counter windows older than a day. */
    const prune = (admissionsBefore: Date, countersBefore: Date) =>
      sql`delete from call_admissions where admitted_at < ${admissionsBefore}`.pipe(
        Effect.zipRight(sql`delete from limit_counters where window_start < ${countersBefore}`),
        Effect.asVoid
      )

    return { lockTenant, lockReplica, callCounts, callsOnly, admitInbound, admitInboundSeen, callLogSeen, hits, bump, minutesSince, firstNotice, admit, admittedCall, attach, release, prune } as const
  })
}) {}
