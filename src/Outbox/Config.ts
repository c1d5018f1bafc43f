import { Config, Effect, Option } from "effect"
import { atLeast } from "../ConfigIntegers.js"

/** Settings of outbox delivery (tenant webhooks, billing outcomes). */
export class OutboxConfig extends Effect.Service<OutboxConfig>()("OutboxConfig", {
  effect: Effect.gen(function*() {
    const billingUrl = yield* Config.option(Config.string("BILLING_OUTCOMES_URL"))
    return {
      /** Where billing outcomes are POSTed; unset = they stay `pending_emit`. */
      billingOutcomesUrl: Option.filter(billingUrl, (url) => url.trim() !== ""),
      /** Run the delivery worker on this replica (every replica may; claims never overlap). */
      workerEnabled: yield* Config.boolean("OUTBOX_WORKER_ENABLED").pipe(Config.withDefault(true)),
      /** How often the worker looks for due rows when no NOTIFY woke it. */
      pollIntervalMs: yield* atLeast("OUTBOX_POLL_INTERVAL_MS", 2000, 10),
      /** How long a claim lasts; it must outlast a batch (deliveries time out after 15 s). */
      leaseSeconds: yield* atLeast("OUTBOX_LEASE_SECONDS", 120, 1),
      /** Rows a worker claims at once, and how many of them it sends concurrently. */
      batchSize: yield* atLeast("OUTBOX_BATCH_SIZE", 32, 1),
      concurrency: yield* atLeast("OUTBOX_CONCURRENCY", 8, 1)
    } as const
  })
}) {}
