import { Effect } from "effect"
import { runOnWake } from "../Database/WakeLoop.js"
import { measureSweep } from "../Observability/Metrics.js"
import { BillingDelivery } from "./BillingDelivery.js"
import { OutboxConfig } from "./Config.js"
import { emptyPass } from "./WebhookDelivery.js"
import { WebhookDelivery } from "./WebhookDelivery.js"
import { OUTBOX_CHANNEL } from "./WebhookOutbox.js"

/**
 * The one delivery worker of a replica, for every outbox (tenant webhooks, billing
 * outcomes): a scoped fiber that drains due rows, then sleeps until a NOTIFY from a commit
 * that enqueued something, or the poll interval (which also catches retries coming due and
 * leases left by a replica that died). Every replica may run one: claims never overlap.
 */
export class OutboxWorker extends Effect.Service<OutboxWorker>()("OutboxWorker", {
  scoped: Effect.gen(function*() {
    const config = yield* OutboxConfig
    const webhooks = yield* WebhookDelivery
    const billing = yield* BillingDelivery

    /** Claims and delivers batches until no outbox has a full batch due; how many rows it tried. */
    const drain = Effect.gen(function*() {
      let attempted = 0
      for (;;) {
        const sent = yield* webhooks.deliverDue(config.batchSize)
        const billed = billing.enabled ? yield* billing.deliverDue(config.batchSize) : emptyPass
        attempted += sent.attempted + billed.attempted
        if (sent.attempted < config.batchSize && billed.attempted < config.batchSize) return attempted
      }
    }).pipe(measureSweep("outbox_delivery", (attempted: number) => attempted))

    if (config.workerEnabled) {
      yield* runOnWake({ channel: OUTBOX_CHANNEL, pollIntervalMs: config.pollIntervalMs, pass: drain, failure: "outbox delivery pass failed" })
    }

    return { drain } as const
  }),
  dependencies: [WebhookDelivery.Default, BillingDelivery.Default, OutboxConfig.Default]
}) {}
