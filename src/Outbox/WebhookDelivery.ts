import * as SqlClient from "@effect/sql/SqlClient"
import { Clock, Effect, Option, Random } from "effect"
import { orUnavailable } from "../Database/Errors.js"
import { forEachClaimed } from "../Database/Leases.js"
import { GuardedHttpClient } from "../Egress/GuardedHttpClient.js"
import { redactUrlSecrets } from "../Http/UrlSecrets.js"
import { Ids } from "../Ids.js"
import { recordDelivery } from "../Observability/Metrics.js"
import { REDACTED } from "../Tenants/Domain.js"
import { OutboxConfig } from "./Config.js"
import { WebhookEndpoints } from "./Endpoints.js"
import { type ClaimedWebhook, WebhookOutboxRepo, type WebhookResult } from "./Repo.js"
import { nextDelayMs } from "./Retry.js"
import { post } from "./Send.js"
import { webhookHeaders } from "./Signing.js"
import { WebhookEvents, WebhookOutbox } from "./WebhookOutbox.js"

/** What one pass over due rows did (the billing sweep's counts, for webhooks). */
export interface PassResult {
  readonly attempted: number
  readonly delivered: number
  readonly rescheduled: number
  readonly failed: number
}

/** A pass's per-row result as the delivery metric names it. */
export const deliveryOutcome = { delivered: "delivered", rescheduled: "retry", failed: "failed" } as const

export const emptyPass: PassResult = { attempted: 0, delivered: 0, rescheduled: 0, failed: 0 }

export const countResults = (results: ReadonlyArray<"delivered" | "rescheduled" | "failed" | "lost">): PassResult => ({
  attempted: results.length,
  delivered: results.filter((r) => r === "delivered").length,
  rescheduled: results.filter((r) => r === "rescheduled").length,
  failed: results.filter((r) => r === "failed").length
})

/**
 * Delivers due `webhook_outbox` rows to tenant endpoints with Standard Webhooks headers:
 * claim a batch under a lease, POST each, record each result while the lease holds.
 */
export class WebhookDelivery extends Effect.Service<WebhookDelivery>()("WebhookDelivery", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* WebhookOutboxRepo
    const endpoints = yield* WebhookEndpoints
    const outbox = yield* WebhookOutbox
    const ids = yield* Ids
    const config = yield* OutboxConfig
    const { client } = yield* GuardedHttpClient

    /** The final failure is recorded with the event announcing it, in one transaction. */
    const recordFinal = (row: ClaimedWebhook, token: string, now: Date, result: WebhookResult & { _tag: "Failed" }) =>
      orUnavailable(sql.withTransaction(Effect.gen(function*() {
        if (!(yield* repo.record(row.id, row.tenant_id, token, now, result))) return false
        // A failed delivery_failed event announces nothing new: no event about it (no loop).
        if (row.event !== WebhookEvents.deliveryFailed) {
          yield* outbox.enqueue(row.tenant_id, WebhookEvents.deliveryFailed, {
            webhook_id: row.message_id,
            event: row.event,
            attempts: row.attempts + 1,
            last_status_code: result.statusCode,
            last_error: result.error
          }, now).pipe(Effect.catchTag("InvalidInput", () => Effect.succeed(false)))
        }
        return true
      })))

    const deliverOne = (row: ClaimedWebhook, token: string, endpointOf: typeof endpoints.endpointOf) =>
      Effect.gen(function*() {
        const endpoint = yield* endpointOf(row.tenant_id)
        const sentAt = yield* Clock.currentTimeMillis
        const attempt = Option.isNone(endpoint)
          ? { _tag: "Rejected" as const, status: null, error: "the tenant has no webhook endpoint (unset or disabled)", retryAfterMs: undefined }
          : yield* post(client, endpoint.value.url, webhookHeaders(endpoint.value.secrets, row.message_id, Math.floor(sentAt / 1000), row.body), row.body)
        const now = new Date(yield* Clock.currentTimeMillis)
        if (attempt._tag === "Accepted") {
          return (yield* repo.record(row.id, row.tenant_id, token, now, { _tag: "Delivered", statusCode: attempt.status })) ? "delivered" : "lost"
        }
        if (attempt.status === 410 && Option.isSome(endpoint)) {
          // The reason is stored and copied into the failed rows' last_error: the URL's credentials stay out of it.
          yield* repo.disable(row.tenant_id, endpoint.value.url, `${redactUrlSecrets(endpoint.value.url, REDACTED)} answered 410 Gone`)
          return (yield* repo.record(row.id, row.tenant_id, token, now, { _tag: "Failed", error: "endpoint gone (410); disabled", statusCode: 410 }))
            ? "failed"
            : "lost"
        }
        const delay = Option.isNone(endpoint) ? undefined : nextDelayMs(row.attempts + 1, yield* Random.next, attempt.retryAfterMs)
        if (delay === undefined) {
          return (yield* recordFinal(row, token, now, { _tag: "Failed", error: attempt.error, statusCode: attempt.status })) ? "failed" : "lost"
        }
        const retry: WebhookResult = { _tag: "Retry", nextAttemptAt: new Date(now.getTime() + delay), error: attempt.error, statusCode: attempt.status }
        return (yield* repo.record(row.id, row.tenant_id, token, now, retry)) ? "rescheduled" : "lost"
      }).pipe(
        Effect.tap((outcome) =>
          outcome === "lost"
            ? Effect.logWarning("webhook lease lost before the result was recorded").pipe(Effect.annotateLogs("outbox_id", row.id))
            : Effect.sync(() => recordDelivery("webhook", deliveryOutcome[outcome]))
        ),
        // The POST is a child of this span; no body or secret on it.
        Effect.withSpan("WebhookDelivery.deliver", {
          kind: "producer",
          attributes: { "outbox": "webhook", "tenant_id": row.tenant_id, "webhook.event": row.event, "webhook.attempt": row.attempts + 1 }
        })
      )

    /** Claims up to `limit` due rows and delivers them; what happened, per row. */
    const deliverDue = Effect.fn("WebhookDelivery.deliverDue")(function*(limit: number) {
      // A batch reads each tenant's endpoint once (a config change applies from the next batch).
      const endpointOf = yield* Effect.cachedFunction(endpoints.endpointOf)
      const results = yield* forEachClaimed({
        ids,
        repo,
        limit,
        leaseSeconds: config.leaseSeconds,
        concurrency: config.concurrency,
        each: (row, token) => deliverOne(row, token, endpointOf)
      })
      return countResults(results)
    })

    return { deliverDue } as const
  }),
  dependencies: [WebhookOutboxRepo.Default, WebhookEndpoints.Default, WebhookOutbox.Default, OutboxConfig.Default]
}) {}
