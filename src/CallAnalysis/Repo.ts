import * as SqlClient from "@effect/sql/SqlClient"
import type * as Statement from "@effect/sql/Statement"
import { Effect } from "effect"
import { makeExecute } from "../Database/HotStatement.js"
import { leasedTable, pendingJobs } from "../Database/Leases.js"
import { piece } from "../Database/Piece.js"


/** A claimed job. */
export interface ClaimedJob {
  readonly id: string
  readonly tenant_id: string
  readonly voice_session_id: string
  readonly call_log_id: string | null
  readonly outbox_id: string | null
  readonly attempts: number
  /** Read with the claim: whether the session still exists, its turns and the version that served it. */
  readonly session_found: boolean
  readonly transcript: unknown
  readonly agent_version_id: string | null
}

export type JobResult =
  | { readonly _tag: "Done" }
  | { readonly _tag: "Retry"; readonly nextAttemptAt: Date; readonly error: string }
  | { readonly _tag: "Failed"; readonly error: string }

/** SQL for `call_analysis_jobs` (migration 0017): claimed and leased as the outbox is. */
export class AnalysisJobsRepo extends Effect.Service<AnalysisJobsRepo>()("AnalysisJobsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /**
     * A job per row of `source` (which selects `voice_session_id`, `call_log_id`, `outbox_id`), as a
     * part of the call's one-statement record. Once per session: a replayed record adds nothing.
     */
    const insertFrom = (id: string, tenantId: string, dueAt: Date, source: Statement.Fragment) =>
      piece`insert into call_analysis_jobs (id, tenant_id, voice_session_id, call_log_id, outbox_id, next_attempt_at)
          select ${id}::uuid, ${tenantId}, j.voice_session_id::uuid, j.call_log_id::uuid, j.outbox_id::uuid,
            ${dueAt.toISOString()}::timestamptz
          from (${source}) j
          on conflict (tenant_id, voice_session_id) do nothing
          returning id`

    /** Pending jobs due by `now`, oldest first (the partial index `call_analysis_jobs_due_idx`). */
    // Claimed and recorded after every call: prepared (planned once per connection).
    const leases = leasedTable(sql, pendingJobs(sql, "call_analysis_jobs"), (yield* makeExecute(sql)).prepared)

    // The claim reads what the analysis needs of each session in the same statement (by primary key).
    const session = (column: string) =>
      sql`(select s.${sql(column)} from voice_sessions s where s.tenant_id = claimed.tenant_id and s.id = claimed.voice_session_id)`
    const claim = leases.claim<ClaimedJob>(
      sql`claimed.id, claimed.tenant_id, claimed.voice_session_id, claimed.call_log_id, claimed.outbox_id, claimed.attempts,
        ${session("id")} is not null as session_found, ${session("transcript")} as transcript,
        ${session("agent_version_id")}::text as agent_version_id`
    )

    const set = (now: Date, result: JobResult) =>
      result._tag === "Done"
        ? sql`status = 'done', completed_at = ${now}, last_error = null`
        : result._tag === "Retry"
        ? sql`next_attempt_at = ${result.nextAttemptAt}, last_error = ${result.error}`
        : sql`status = 'failed', completed_at = ${now}, last_error = ${result.error}`

    /** Applies `result` while `token` still holds the lease; false when it was lost (another replica owns it now). */
    const record = (job: ClaimedJob, token: string, now: Date, result: JobResult) =>
      leases.record(job.id, job.tenant_id, token, now, set(now, result))

    /** `record` as the guard part of a one-statement write: returns the job's id only while the lease held. */
    const recordStatement = (job: ClaimedJob, token: string, now: Date, result: JobResult) =>
      leases.recordStatement(job.id, job.tenant_id, token, now, set(now, result))

    const release = leases.release

    return { insertFrom, claim, record, recordStatement, release } as const
  })
}) {}
