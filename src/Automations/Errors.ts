import { Schema } from "effect"

/** Input the automation cannot act on (a bad number, a field its template needs, a refused destination). */
export class AutomationInvalid extends Schema.TaggedError<AutomationInvalid>()("AutomationInvalid", {
  message: Schema.String
}) {
  readonly status = 400 as const
}

/** Its provider is not configured or did not answer (Twilio, the email endpoint). */
export class AutomationUnavailable extends Schema.TaggedError<AutomationUnavailable>()("AutomationUnavailable", {
  message: Schema.String
}) {
  readonly status = 503 as const
}

/** A rate or volume limit of the tenant refused the text (docs/limits.md); it clears with time. */
export class AutomationLimited extends Schema.TaggedError<AutomationLimited>()("AutomationLimited", {
  message: Schema.String
}) {
  readonly status = 429 as const
}

export type AutomationError = AutomationInvalid | AutomationUnavailable | AutomationLimited
