import { Schema } from "effect"
import { TaggedFrames } from "./TaggedFrames.js"

/**
 * Twilio Media Streams messages (https://www.twilio.com/docs/voice/media-streams/websocket-messages).
 * Inbound: connected, start, media, mark, dtmf, stop. Outbound (built as strings by
 * `TwilioSocket`): media, mark, clear. Unknown fields are ignored; an unknown or malformed
 * event decodes to `undefined` and is skipped, so a new Twilio event never breaks a call.
 */

export class TwilioStart extends Schema.Class<TwilioStart>("TwilioStart")({
  event: Schema.Literal("start"),
  start: Schema.Struct({
    streamSid: Schema.String,
    accountSid: Schema.optional(Schema.String),
    callSid: Schema.optional(Schema.String),
    customParameters: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String }))
  })
}) {}

const Connected = Schema.Struct({ event: Schema.Literal("connected") })

const Media = Schema.Struct({
  event: Schema.Literal("media"),
  media: Schema.Struct({ payload: Schema.String, track: Schema.optional(Schema.String) })
})

const Mark = Schema.Struct({ event: Schema.Literal("mark"), mark: Schema.Struct({ name: Schema.String }) })

const Dtmf = Schema.Struct({
  event: Schema.Literal("dtmf"),
  dtmf: Schema.Struct({ digit: Schema.String, track: Schema.optional(Schema.String) })
})

const Stop = Schema.Struct({ event: Schema.Literal("stop") })

export const TwilioEvent = Schema.Union(TwilioStart, Connected, Media, Mark, Dtmf, Stop)
export type TwilioEvent = typeof TwilioEvent.Type

/** By `event`: each member's own schema; an unknown event is skipped without one. */
const frames = TaggedFrames.of(TwilioEvent, "event")

/** A Twilio frame the fast path did not take; `undefined` when it is not an event we use. */
export const decodeTwilioEvent = (frame: Buffer): TwilioEvent | undefined => frames.decode(frame)
