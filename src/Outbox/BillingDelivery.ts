import { Clock, Effect, Option, Random } from "effect"
import { forEachClaimed } from "../Database/Leases.js"
import { GuardedHttpClient } from "../Egress/GuardedHttpClient.js"
import { Ids } from "../Ids.js"
import { recordDelivery } from "../Observability/Metrics.js"
import { BillingOutboxRepo, type BillingResult, type ClaimedOutcome } from "./BillingRepo.js"
import { OutboxConfig } from "./Config.js"
import { BillingUnavailable } from "./Errors.js"
import { nextDelayMs } from "./Retry.js"
import { post } from "./Send.js"
import { countResults, deliveryOutcome } from "./WebhookDelivery.js"

/** The key the billing endpoint deduplicates on: one outcome is billed once, however often it is sent. */
export const idempotencyKey = (outcomeId: string) => `voice-outcome-${outcomeId}`

/** The body POSTed to BILLING_OUTCOMES_URL (docs/webhooks.md, "Billing outcomes"). */
const billingBody = (row: ClaimedOutcome) =>
  JSON.stringify({
    idempotency_key: idempotencyKey(row.id),
    outcome_id: row.id,
    tenant_id: row.tenant_id,
    org_id: row.org_id,
    sku: row.billable_sku,
    resolution: row.resolution,
    stream_sid: row.stream_sid,
    call_sid: row.call_sid,
    call_type: row.call_type,
    agent_version_id: row.agent_version_id,
    escalated: row.escalated,
    duration_seconds: row.duration_seconds,
    occurred_at: row.occurred_at
  })

/** A 4xx other than 408/429 will not change by retrying: the outcome fails at once. */
const permanent = (status: number | null) => status !== null && status >= 400 && status < 500 && status !== 408 && status !== 429

/**
 * Delivers billable voice outcomes to BILLING_OUTCOMES_URL with an idempotency key:
 * `pending_emit` -> `emitted`, or `failed_billing` after a permanent refusal or the last
 * retry. Same claim, lease and schedule as webhook delivery.
 */
export class BillingDelivery extends Effect.Service<BillingDelivery>()("BillingDelivery", {
  effect: Effect.gen(function*() {
    const repo = yield* BillingOutboxRepo
    const ids = yield* Ids
    const config = yield* OutboxConfig
    const { client } = yield* GuardedHttpClient

    const deliverOne = (url: string, row: ClaimedOutcome, token: string) =>
      Effect.gen(function*() {
        if (row.answered_by !== null && /^(machine|fax)/.test(row.answered_by)) {
          // A voicemail is never billed as resolved, even when AMD's answer came after the record.
          const now = new Date(yield* Clock.currentTimeMillis)
          return (yield* repo.record(row.id, row.tenant_id, token, now, { _tag: "NotBillable" })) ? "failed" as const : "lost" as const
        }
        const body = billingBody(row)
        const attempt = yield* post(client, url, { "idempotency-key": idempotencyKey(row.id) }, body)
        const now = new Date(yield* Clock.currentTimeMillis)
        const delay = attempt._tag === "Accepted" || permanent(attempt.status)
          ? undefined
          : nextDelayMs(row.billing_attempts + 1, yield* Random.next, attempt.retryAfterMs)
        const result: BillingResult = attempt._tag === "Accepted"
          ? { _tag: "Emitted" }
          : delay === undefined
          ? { _tag: "Failed", error: attempt.error }
          : { _tag: "Retry", nextAttemptAt: new Date(now.getTime() + delay), error: attempt.error }
        const held = yield* repo.record(row.id, row.tenant_id, token, now, result)
        if (!held) {
          yield* Effect.logWarning("billing lease lost before the result was recorded").pipe(Effect.annotateLogs("outcome_id", row.id))
          return "lost" as const
        }
        return result._tag === "Emitted" ? "delivered" as const : result._tag === "Retry" ? "rescheduled" as const : "failed" as const
      }).pipe(
        Effect.tap((outcome) => outcome === "lost" ? Effect.void : Effect.sync(() => recordDelivery("billing", deliveryOutcome[outcome]))),
        Effect.withSpan("BillingDelivery.deliver", { kind: "producer", attributes: { "outbox": "billing", "tenant_id": row.tenant_id } })
      )

    /** Claims up to `limit` due outcomes and delivers them; unavailable without BILLING_OUTCOMES_URL. */
    const deliverDue = Effect.fn("BillingDelivery.deliverDue")(function*(limit: number) {
      if (Option.isNone(config.billingOutcomesUrl)) {
        return yield* new BillingUnavailable({ message: "Billing outcome delivery is not configured (BILLING_OUTCOMES_URL)" })
      }
      const url = config.billingOutcomesUrl.value
      const results = yield* forEachClaimed({
        ids,
        repo,
        limit,
        leaseSeconds: config.leaseSeconds,
        concurrency: config.concurrency,
        each: (row, token) => deliverOne(url, row, token)
      })
      return countResults(results)
    })

    return { deliverDue, enabled: Option.isSome(config.billingOutcomesUrl) } as const
  }),
  dependencies: [BillingOutboxRepo.Default, OutboxConfig.Default]
}) {}
