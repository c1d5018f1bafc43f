import { Schema } from "effect"

/**
 * The parts of Twilio's resources the service reads, decoded from Twilio's JSON (snake_case
 * fields; Twilio omits or nulls what does not apply) into camelCase records.
 */

const maybeString = Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })
/** An optional, nullable string sent under Twilio's snake_case `wire` name. */
const maybeStringAt = (wire: string) => maybeString.pipe(Schema.fromKey(wire))

export const TwilioCall = Schema.Struct({
  sid: Schema.String,
  status: Schema.String,
  to: maybeString,
  from: maybeString,
  direction: maybeString,
  /** Answering-machine detection's verdict (`human`, `machine_start`, ...), when it ran. */
  answeredBy: maybeStringAt("answered_by"),
  parentCallSid: maybeStringAt("parent_call_sid")
})
export type TwilioCall = typeof TwilioCall.Type

export const TwilioParticipant = Schema.Struct({
  callSid: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("call_sid")),
  conferenceSid: Schema.propertySignature(Schema.String).pipe(Schema.fromKey("conference_sid")),
  label: maybeString,
  status: maybeString,
  muted: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  hold: Schema.optionalWith(Schema.Boolean, { default: () => false })
})
export type TwilioParticipant = typeof TwilioParticipant.Type

/** One page of a list: the resources under their list's key, and the path of the next page. */
export const ParticipantPage = Schema.Struct({
  participants: Schema.Array(TwilioParticipant),
  nextPageUri: maybeStringAt("next_page_uri")
})

export const TwilioMessage = Schema.Struct({
  sid: Schema.String,
  status: Schema.String,
  to: maybeString,
  from: maybeString,
  errorMessage: maybeStringAt("error_message")
})
export type TwilioMessage = typeof TwilioMessage.Type

export const TwilioRecording = Schema.Struct({
  sid: Schema.String,
  status: Schema.String,
  callSid: maybeStringAt("call_sid"),
  conferenceSid: maybeStringAt("conference_sid"),
  /** Seconds, as Twilio sends it (a string; null while the recording is in progress). */
  duration: maybeString,
  /** The recording's audio: this URL with `.mp3` or `.wav` (Basic auth, like every request). */
  mediaUrl: maybeStringAt("media_url")
})
export type TwilioRecording = typeof TwilioRecording.Type
