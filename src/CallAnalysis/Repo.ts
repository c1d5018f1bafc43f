import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { orRefused, orUnavailable } from "../Database/Errors.js"

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

    /** Due, pending and not under a live lease; SKIP LOCKED so replicas claiming at once take different jobs. */
    const claim = (token: string, now: Date, leaseUntil: Date, limit: number) =>
      orUnavailable(sql<ClaimedJob>`
        update call_analysis_jobs j set lease_token = ${token}, lease_expires_at = ${leaseUntil}, updated_at = now()
        from (
          select id from call_analysis_jobs
          where status = 'pending' and next_attempt_at <= ${now}
            and (lease_expires_at is null or lease_expires_at <= ${now})
          order by next_attempt_at
          for update skip locked
          limit ${limit}
        ) due
        where j.id = due.id
        returning j.id, j.tenant_id, j.voice_session_id, j.call_log_id, j.outbox_id, j.attempts`)

    /** Applies `result` while `token` still holds the lease; false when it was lost (another replica owns it now). */
    const record = (job: ClaimedJob, token: string, now: Date, result: JobResult) => {
      const set = result._tag === "Done"
        ? sql`status = 'done', completed_at = ${now}, last_error = null`
        : result._tag === "Retry"
        ? sql`next_attempt_at = ${result.nextAttemptAt}, last_error = ${result.error}`
        : sql`status = 'failed', completed_at = ${now}, last_error = ${result.error}`
      return orUnavailable(sql<{ id: string }>`
        update call_analysis_jobs set ${set}, attempts = attempts + 1, lease_token = null, lease_expires_at = null,
          updated_at = now()
        where id = ${job.id} and tenant_id = ${job.tenant_id} and lease_token = ${token} and lease_expires_at > ${now}
        returning id`).pipe(Effect.map((rows) => rows.length === 1))
    }

    const release = (token: string) =>
      orUnavailable(sql`update call_analysis_jobs set lease_token = null, lease_expires_at = null
                        where lease_token = ${token}`).pipe(Effect.asVoid)

    return { insert, claim, record, release } as const
  })
}) {}
