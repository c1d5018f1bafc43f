import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { asAdminErrors } from "../Http/ErrorMapping.js"
import { BillingDelivery } from "./BillingDelivery.js"
import { BillingOutboxRepo } from "./BillingRepo.js"
import { WebhookOutboxRepo } from "./Repo.js"
import { AdminBillingOutcomeOutboxSweepResponse, AdminOutboxDepthResponse, OutboxDepthSnapshot } from "./Schemas.js"

/** Rows the admin sweep claims when no limit is given. */
const DEFAULT_SWEEP_LIMIT = 100

export const OutboxesHttp = HttpApiBuilder.group(Api, "outboxes", (handlers) =>
  Effect.gen(function*() {
    const webhooks = yield* WebhookOutboxRepo
    const billingRows = yield* BillingOutboxRepo
    const billing = yield* BillingDelivery
    return handlers
      .handle("depth", () =>
        Effect.all([webhooks.depth, billingRows.depth], { concurrency: 2 }).pipe(
          Effect.map(([webhook, outcomes]) => {
            const depths = [
              new OutboxDepthSnapshot({ table: "webhook_outbox", ...webhook }),
              new OutboxDepthSnapshot({ table: "voice_outcomes_billing", ...outcomes })
            ]
            return new AdminOutboxDepthResponse({ ok: true, count: depths.length, depths })
          }),
          asAdminErrors
        ))
      .handle("sweepBilling", ({ urlParams }) =>
        billing.deliverDue(urlParams.limit ?? DEFAULT_SWEEP_LIMIT).pipe(
          Effect.map((pass) => new AdminBillingOutcomeOutboxSweepResponse({ ok: true, ...pass })),
          asAdminErrors
        ))
  }))
