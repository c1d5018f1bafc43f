import { Schema } from "effect"

export class ToolFailed extends Schema.TaggedError<ToolFailed>()("ToolFailed", {
  name: Schema.String,
  message: Schema.String,
  /** The request itself was unusable (unknown tool, bad arguments, no call to act on), as opposed to a tool that ran and failed. */
  refused: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  /** The tool's provider is not configured (Twilio, the email endpoint): a 503 where it surfaces as HTTP. */
  unavailable: Schema.optionalWith(Schema.Boolean, { default: () => false })
}) {
  readonly status = 502 as const
}
