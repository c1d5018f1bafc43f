import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { orRefused } from "../Database/Errors.js"
import { leasedTable, pendingJobs } from "../Database/Leases.js"

export interface NewJob {
  readonly id: string
  readonly tenantId: string
  readonly voiceSessionId: string
  readonly callLogId: string | null
  readonly outboxId: string | null
  readonly dueAt: Date
}

/** A claimed job. */
export interface ClaimedJob {
  readonly id: string
  readonly tenant_id: string
  readonly voice_session_id: string
  readonly call_log_id: string | null
  readonly outbox_id: string | null
  readonly attempts: number
}

export type JobResult =
  | { readonly _tag: "Done" }
  | { readonly _tag: "Retry"; readonly nextAttemptAt: Date; readonly error: string }
  | { readonly _tag: "Failed"; readonly error: string }

/** SQL for `call_analysis_jobs` (migration 0017): claimed and leased as the outbox is. */
export class AnalysisJobsRepo extends Effect.Service<AnalysisJobsRepo>()("AnalysisJobsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /** Once per session: a replayed call record adds nothing. */
    const insert = (job: NewJob) =>
      orRefused(sql`insert into call_analysis_jobs (id, tenant_id, voice_session_id, call_log_id, outbox_id, next_attempt_at)
        values (${job.id}, ${job.tenantId}, ${job.voiceSessionId}, ${job.callLogId}, ${job.outboxId}, ${job.dueAt})
        on conflict (tenant_id, voice_session_id) do nothing`).pipe(Effect.asVoid)

    /** Pending jobs due by `now`, oldest first (the partial index `call_analysis_jobs_due_idx`). */
    const leases = leasedTable(sql, pendingJobs(sql, "call_analysis_jobs"))

    const claim = leases.claim<ClaimedJob>(
      sql`claimed.id, claimed.tenant_id, claimed.voice_session_id, claimed.call_log_id, claimed.outbox_id, claimed.attempts`
    )

    /** Applies `result` while `token` still holds the lease; false when it was lost (another replica owns it now). */
    const record = (job: ClaimedJob, token: string, now: Date, result: JobResult) =>
      leases.record(job.id, job.tenant_id, token, now, result._tag === "Done"
        ? sql`status = 'done', completed_at = ${now}, last_error = null`
        : result._tag === "Retry"
        ? sql`next_attempt_at = ${result.nextAttemptAt}, last_error = ${result.error}`
        : sql`status = 'failed', completed_at = ${now}, last_error = ${result.error}`)

    const release = leases.release

    return { insert, claim, record, release } as const
  })
}) {}
