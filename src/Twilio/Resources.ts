import { Schema } from "effect"

/**
 * The parts of Twilio's resources the service reads, decoded from twilio-node's instances
 * (camelCase fields; Twilio omits or nulls what does not apply). Plain values, so callers
 * never hold a twilio-node instance and the client credentials inside it.
 */

const maybeString = Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })

export const TwilioCall = Schema.Struct({
  sid: Schema.String,
  status: Schema.String,
  to: maybeString,
  from: maybeString,
  direction: maybeString,
  /** Answering-machine detection's verdict (`human`, `machine_start`, ...), when it ran. */
  answeredBy: maybeString,
  parentCallSid: maybeString
})
export type TwilioCall = typeof TwilioCall.Type

export const TwilioParticipant = Schema.Struct({
  callSid: Schema.String,
  conferenceSid: Schema.String,
  label: maybeString,
  status: maybeString,
  muted: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  hold: Schema.optionalWith(Schema.Boolean, { default: () => false })
})
export type TwilioParticipant = typeof TwilioParticipant.Type

export const TwilioMessage = Schema.Struct({
  sid: Schema.String,
  status: Schema.String,
  to: maybeString,
  from: maybeString,
  errorMessage: maybeString
})
export type TwilioMessage = typeof TwilioMessage.Type

export const TwilioRecording = Schema.Struct({
  sid: Schema.String,
  status: Schema.String,
  callSid: maybeString,
  conferenceSid: maybeString,
  /** Seconds, as Twilio sends it (a string; null while the recording is in progress). */
  duration: maybeString,
  /** The recording's audio: this URL with `.mp3` or `.wav` (Basic auth, like every request). */
  mediaUrl: maybeString
})
export type TwilioRecording = typeof TwilioRecording.Type
