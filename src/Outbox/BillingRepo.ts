import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import { orUnavailable } from "../Database/Errors.js"
import { leasedTable } from "../Database/Leases.js"
import type { Depth } from "./Repo.js"

/** A claimed billable outcome: what the billing endpoint is told. */
export interface ClaimedOutcome {
  readonly id: string
  readonly tenant_id: string
  readonly org_id: string | null
  readonly billable_sku: string | null
  readonly resolution: string
  readonly stream_sid: string
  readonly call_sid: string | null
  readonly call_type: string | null
  readonly agent_version_id: string | null
  readonly escalated: boolean
  readonly duration_seconds: number | null
  /** ISO 8601, as timestamps are read (Database/Client.ts). */
  readonly occurred_at: string
  readonly billing_attempts: number
  /** From the call's log: a machine answered (set by a status callback that came late). */
  readonly answered_by: string | null
}

export type BillingResult =
  | { readonly _tag: "Emitted" }
  | { readonly _tag: "NotBillable" }
  | { readonly _tag: "Retry"; readonly nextAttemptAt: Date; readonly error: string }
  | { readonly _tag: "Failed"; readonly error: string }

/** SQL for the billing side of `voice_outcomes` (billing_status pending_emit -> emitted | failed_billing). */
export class BillingOutboxRepo extends Effect.Service<BillingOutboxRepo>()("BillingOutboxRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /** Outcomes waiting to be billed, due by `now` (never tried yet: at once), oldest first (`voice_outcomes_billing_due_idx`). */
    const leases = leasedTable(sql, {
      table: "voice_outcomes",
      leaseToken: "billing_lease_token",
      leaseExpiresAt: "billing_lease_expires_at",
      attempts: "billing_attempts",
      due: (now) =>
        sql`billing_status = 'pending_emit' and (billing_next_attempt_at is null or billing_next_attempt_at <= ${now})`,
      order: sql`billing_next_attempt_at nulls first`,
      claimTouchesUpdatedAt: false
    })

    const claim = leases.claim<ClaimedOutcome>(sql`claimed.id, claimed.tenant_id, claimed.org_id, claimed.billable_sku,
      claimed.resolution, claimed.stream_sid, claimed.call_sid, claimed.call_type, claimed.agent_version_id,
      claimed.escalated, claimed.duration_seconds, claimed.occurred_at, claimed.billing_attempts,
      (select c.answered_by from call_logs c
       where c.tenant_id = claimed.tenant_id and c.call_sid = claimed.call_sid and claimed.call_sid is not null) as answered_by`)

    /** Applies `result` if `token` still holds the row's lease at `now`; false when it was lost. */
    const record = (id: string, tenantId: string, token: string, now: Date, result: BillingResult) =>
      leases.record(id, tenantId, token, now, result._tag === "Emitted"
        ? sql`billing_status = 'emitted', billing_emitted_at = ${now}, billing_last_error = null`
        : result._tag === "NotBillable"
        ? sql`billing_status = 'not_billable', billable_sku = null, resolution = 'voicemail'`
        : result._tag === "Retry"
        ? sql`billing_next_attempt_at = ${result.nextAttemptAt}, billing_last_error = ${result.error}`
        : sql`billing_status = 'failed_billing', billing_last_error = ${result.error}`)

    /** Hands back what `token` still holds (the worker is stopping). */
    const release = leases.release

    const depth = orUnavailable(sql<Depth>`
      select count(*) filter (where billing_status = 'pending_emit')::int as pending,
             count(*) filter (where billing_status = 'emitted')::int as delivered,
             count(*) filter (where billing_status in ('failed', 'failed_billing'))::int as failed
      from voice_outcomes`).pipe(Effect.map((rows) => rows[0] ?? { pending: 0, delivered: 0, failed: 0 }))

    return { claim, record, release, depth } as const
  })
}) {}
