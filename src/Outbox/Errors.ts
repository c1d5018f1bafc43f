import { Schema } from "effect"

/** Billing outcome delivery is not configured on this deployment (no BILLING_OUTCOMES_URL): 503. */
export class BillingUnavailable extends Schema.TaggedError<BillingUnavailable>()("BillingUnavailable", {
  message: Schema.String
}) {
  readonly status = 503 as const
}
