import { Schema } from "effect"

/** No call with this stream SID is held here (or it belongs to another tenant). */
export class LiveCallNotFound extends Schema.TaggedError<LiveCallNotFound>()("LiveCallNotFound", {
  streamSid: Schema.String
}) {
  readonly status = 404 as const
  override get message() {
    return `No live call with stream SID ${this.streamSid}`
  }
}
