import { Schema } from "effect"

/** A transfer that could not be made: 400 for a bad request (number, call), 503 when Twilio or the database failed. */
export class TransferFailed extends Schema.TaggedError<TransferFailed>()("TransferFailed", {
  message: Schema.String,
  status: Schema.Literal(400, 503)
}) {}
