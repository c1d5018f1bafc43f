import { Schema } from "effect"

/** A tenant-supplied URL we will not call: said when it is configured, and again at request time. */
export class OutboundUrlRefused extends Schema.TaggedError<OutboundUrlRefused>()("OutboundUrlRefused", {
  url: Schema.String,
  reason: Schema.String
}) {
  readonly status = 400 as const
  override get message() {
    return `${this.url} is not allowed as an outbound URL: ${this.reason}`
  }
}
