import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { orUnavailable } from "../Database/Errors.js"
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

    /** As `WebhookOutboxRepo.claim`: due, not under a live lease, SKIP LOCKED, then leased. */
    const claim = (token: string, now: Date, leaseUntil: Date, limit: number) =>
      orUnavailable(sql<ClaimedOutcome>`
        update voice_outcomes o set billing_lease_token = ${token}, billing_lease_expires_at = ${leaseUntil}
        from (
          select id from voice_outcomes
          where billing_status = 'pending_emit'
            and (billing_next_attempt_at is null or billing_next_attempt_at <= ${now})
            and (billing_lease_expires_at is null or billing_lease_expires_at <= ${now})
          order by billing_next_attempt_at nulls first
          for update skip locked
          limit ${limit}
        ) due
        where o.id = due.id
        returning o.id, o.tenant_id, o.org_id, o.billable_sku, o.resolution, o.stream_sid, o.call_sid, o.call_type,
          o.agent_version_id, o.escalated, o.duration_seconds, o.occurred_at, o.billing_attempts,
          (select c.answered_by from call_logs c
           where c.tenant_id = o.tenant_id and c.call_sid = o.call_sid and o.call_sid is not null) as answered_by`)

    /** Applies `result` if `token` still holds the row's lease at `now`; false when it was lost. */
    const record = (id: string, tenantId: string, token: string, now: Date, result: BillingResult) => {
      const set = result._tag === "Emitted"
        ? sql`billing_status = 'emitted', billing_emitted_at = ${now}, billing_last_error = null`
        : result._tag === "NotBillable"
        ? sql`billing_status = 'not_billable', billable_sku = null, resolution = 'voicemail'`
        : result._tag === "Retry"
        ? sql`billing_next_attempt_at = ${result.nextAttemptAt}, billing_last_error = ${result.error}`
        : sql`billing_status = 'failed_billing', billing_last_error = ${result.error}`
      return orUnavailable(sql<{ id: string }>`
        update voice_outcomes set ${set}, billing_attempts = billing_attempts + 1, billing_lease_token = null,
          billing_lease_expires_at = null, updated_at = now()
        where id = ${id} and tenant_id = ${tenantId} and billing_lease_token = ${token}
          and billing_lease_expires_at > ${now}
        returning id`).pipe(Effect.map((rows) => rows.length === 1))
    }

    /** Hands back what `token` still holds (the worker is stopping). */
    const release = (token: string) =>
      orUnavailable(sql`update voice_outcomes set billing_lease_token = null, billing_lease_expires_at = null
                        where billing_lease_token = ${token}`).pipe(Effect.asVoid)

    const depth = orUnavailable(sql<Depth>`
      select count(*) filter (where billing_status = 'pending_emit')::int as pending,
             count(*) filter (where billing_status = 'emitted')::int as delivered,
             count(*) filter (where billing_status in ('failed', 'failed_billing'))::int as failed
      from voice_outcomes`).pipe(Effect.map((rows) => rows[0] ?? { pending: 0, delivered: 0, failed: 0 }))

    return { claim, record, release, depth } as const
  })
}) {}
