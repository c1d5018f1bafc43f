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

/** The call is in the ledger, but its replica stopped beating: it is gone (the reaper will record it). */
export class LiveCallGone extends Schema.TaggedError<LiveCallGone>()("LiveCallGone", {
  streamSid: Schema.String
}) {
  readonly status = 404 as const
  override get message() {
    return `The call ${this.streamSid} is gone: the replica holding it stopped answering`
  }
}

/** The replica holding the call did not answer a command in time. */
export class LiveCallOwnerSilent extends Schema.TaggedError<LiveCallOwnerSilent>()("LiveCallOwnerSilent", {
  streamSid: Schema.String,
  timeoutMs: Schema.Number
}) {
  readonly status = 503 as const
  override get message() {
    return `The replica holding the call ${this.streamSid} did not answer within ${this.timeoutMs} ms (it may still apply the action)`
  }
}

/** A command too large to travel to another replica (a NOTIFY payload is under 8000 bytes). */
export class CommandTooLarge extends Schema.TaggedError<CommandTooLarge>()("CommandTooLarge", {
  bytes: Schema.Number,
  limit: Schema.Number
}) {
  readonly status = 400 as const
  override get message() {
    return `The command is too large (${this.bytes} bytes as JSON, at most ${this.limit}): shorten the text`
  }
}
