import { Schema } from "effect"

/**
 * Twilio refused the request (HTTP 4xx other than 429): `httpStatus` and Twilio's error `code`
 * (https://www.twilio.com/docs/api/errors) say why; `message` is Twilio's own. A request our
 * client refuses before sending (a SID or conference name with `/`, `?` or `#` in it) is a 400
 * with no code; an account SID that is not an `AC...` SID is a 401, as Twilio would answer.
 */
export class TwilioRejected extends Schema.TaggedError<TwilioRejected>()("TwilioRejected", {
  httpStatus: Schema.Number,
  code: Schema.NullOr(Schema.Number),
  message: Schema.String,
  moreInfo: Schema.NullOr(Schema.String)
}) {
  /** Our answer when this reaches a client unmapped: Twilio, upstream of us, said no. */
  readonly status = 502 as const
}

/**
 * Twilio could not be reached, did not answer within the request timeout, answered 5xx or 429,
 * or answered something unreadable. Worth retrying later.
 */
export class TwilioUnavailable extends Schema.TaggedError<TwilioUnavailable>()("TwilioUnavailable", {
  httpStatus: Schema.NullOr(Schema.Number),
  code: Schema.NullOr(Schema.Number),
  message: Schema.String,
  /** The request was sent but no answer came in time: Twilio may have acted on it (a call may exist). */
  outcomeUnknown: Schema.optional(Schema.Boolean)
}) {
  readonly status = 503 as const
}

export type TwilioFailure = TwilioRejected | TwilioUnavailable
