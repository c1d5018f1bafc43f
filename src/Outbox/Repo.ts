import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import { orUnavailable } from "../Database/Errors.js"
import { makeExecute } from "../Database/HotStatement.js"
import { leasedTable, pendingJobs } from "../Database/Leases.js"

/** A claimed `webhook_outbox` row: the body is the stored envelope, byte for byte on every attempt. */
export interface ClaimedWebhook {
  readonly id: string
  /** The envelope's `id`: the `webhook-id` header, the same on every attempt. */
  readonly message_id: string
  readonly tenant_id: string
  readonly event: string
  readonly body: string
  readonly attempts: number
}

/** How one attempt ended, written only while the claim's lease is held. */
export type WebhookResult =
  | { readonly _tag: "Delivered"; readonly statusCode: number }
  | { readonly _tag: "Retry"; readonly nextAttemptAt: Date; readonly error: string; readonly statusCode: number | null }
  | { readonly _tag: "Failed"; readonly error: string; readonly statusCode: number | null }

/** Row counts of one outbox, as `GET /admin/outboxes/depth` reports them. */
export interface Depth {
  readonly pending: number
  readonly delivered: number
  readonly failed: number
}

/** SQL for `webhook_outbox` and `webhook_endpoints_disabled`. */
export class WebhookOutboxRepo extends Effect.Service<WebhookOutboxRepo>()("WebhookOutboxRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    /** Pending rows due by `now`, oldest first (the partial index `webhook_outbox_due_idx`). */
    // Claimed and recorded after every call: prepared (planned once per connection).
    const leases = leasedTable(sql, pendingJobs(sql, "webhook_outbox"), (yield* makeExecute(sql)).prepared)

    const claim = leases.claim<ClaimedWebhook>(sql`claimed.id,
      -- Rows written before envelopes carried an id take one from the row, stable across attempts.
      coalesce(claimed.payload->>'id', 'msg_' || replace(claimed.id::text, '-', '')) as message_id,
      claimed.tenant_id, claimed.event, claimed.payload::text as body, claimed.attempts`)

    /** Applies `result` if `token` still holds the row's lease at `now`; false when it was lost. */
    const record = (id: string, tenantId: string, token: string, now: Date, result: WebhookResult) =>
      leases.record(id, tenantId, token, now, result._tag === "Delivered"
        ? sql`status = 'delivered', delivered_at = ${now}, last_status_code = ${result.statusCode}, last_error = null`
        : result._tag === "Retry"
        ? sql`next_attempt_at = ${result.nextAttemptAt}, last_error = ${result.error}, last_status_code = ${result.statusCode}`
        : sql`status = 'failed', last_error = ${result.error}, last_status_code = ${result.statusCode}`)

    const release = leases.release

    const isDisabled = (tenantId: string, url: string) =>
      orUnavailable(sql<{ url: string }>`
        select url from webhook_endpoints_disabled where tenant_id = ${tenantId} and url = ${url}`).pipe(
        Effect.map((rows) => rows.length > 0)
      )

    /** The endpoint answered 410: it is off, and what is still queued for the tenant fails now. */
    const disable = (tenantId: string, url: string, reason: string) =>
      orUnavailable(sql.withTransaction(Effect.zipRight(
        sql`insert into webhook_endpoints_disabled (tenant_id, url, reason) values (${tenantId}, ${url}, ${reason})
            on conflict (tenant_id, url) do nothing`,
        sql`update webhook_outbox set status = 'failed', last_error = ${reason}, updated_at = now()
            where tenant_id = ${tenantId} and status = 'pending' and lease_token is null`
      ))).pipe(Effect.asVoid)

    const depth = orUnavailable(sql<Depth>`
      select count(*) filter (where status = 'pending')::int as pending,
             count(*) filter (where status = 'delivered')::int as delivered,
             count(*) filter (where status = 'failed')::int as failed
      from webhook_outbox`).pipe(Effect.map((rows) => rows[0] ?? { pending: 0, delivered: 0, failed: 0 }))

    return { claim, record, release, isDisabled, disable, depth } as const
  })
}) {}
