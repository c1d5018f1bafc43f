/**
 * What the service may ask of Twilio's REST API (2010-04-01), named like Twilio's parameters
 * with a lower-case first letter: `statusCallbackEvent` is sent as `StatusCallbackEvent`
 * (src/Twilio/Rest.ts). Arrays are sent as one pair per element, booleans as "true"/"false".
 * Only the parameters worth having are listed; Twilio documents the rest.
 */

interface StatusCallbacks {
  readonly statusCallback?: string
  readonly statusCallbackMethod?: string
}

interface Recording {
  readonly record?: boolean
  readonly recordingChannels?: string
  readonly recordingStatusCallback?: string
  readonly recordingStatusCallbackMethod?: string
  readonly recordingStatusCallbackEvent?: ReadonlyArray<string>
  readonly recordingTrack?: string
  readonly trim?: string
}

interface MachineDetection {
  readonly machineDetection?: string
  readonly machineDetectionTimeout?: number
  readonly machineDetectionSpeechThreshold?: number
  readonly machineDetectionSpeechEndThreshold?: number
  readonly machineDetectionSilenceTimeout?: number
}

/** POST /Calls.json (https://www.twilio.com/docs/voice/api/call-resource#create-a-call-resource) */
export interface CreateCallOptions extends StatusCallbacks, Recording, MachineDetection {
  readonly to: string
  readonly from: string
  readonly url?: string
  readonly twiml?: string
  readonly applicationSid?: string
  readonly method?: string
  readonly fallbackUrl?: string
  readonly fallbackMethod?: string
  readonly statusCallbackEvent?: ReadonlyArray<string>
  readonly sendDigits?: string
  /** Seconds to let it ring. */
  readonly timeout?: number
  readonly timeLimit?: number
  readonly callerId?: string
  /** "true" for answering-machine detection in the background (Twilio's parameter is a string). */
  readonly asyncAmd?: string
  readonly asyncAmdStatusCallback?: string
  readonly asyncAmdStatusCallbackMethod?: string
  readonly sipAuthUsername?: string
  readonly sipAuthPassword?: string
  readonly callReason?: string
}

/** POST /Calls/{Sid}.json: new instructions for a live call, or its end. */
export interface UpdateCallOptions extends StatusCallbacks {
  readonly url?: string
  readonly method?: string
  readonly twiml?: string
  readonly status?: "canceled" | "completed"
  readonly fallbackUrl?: string
  readonly fallbackMethod?: string
  readonly timeLimit?: number
}

/** POST /Conferences/{Sid or name}/Participants.json: dials `to` into the conference. */
export interface AddParticipantOptions extends StatusCallbacks, Recording, MachineDetection {
  readonly from: string
  readonly to: string
  readonly statusCallbackEvent?: ReadonlyArray<string>
  readonly label?: string
  readonly timeout?: number
  readonly timeLimit?: number
  readonly muted?: boolean
  /** "true", "false", "onEnter" or "onExit". */
  readonly beep?: string
  readonly startConferenceOnEnter?: boolean
  readonly endConferenceOnExit?: boolean
  readonly waitUrl?: string
  readonly waitMethod?: string
  readonly earlyMedia?: boolean
  readonly maxParticipants?: number
  readonly conferenceRecord?: string
  readonly conferenceStatusCallback?: string
  readonly conferenceStatusCallbackMethod?: string
  readonly conferenceStatusCallbackEvent?: ReadonlyArray<string>
  readonly coaching?: boolean
  readonly callSidToCoach?: string
  readonly callerId?: string
  readonly amdStatusCallback?: string
  readonly amdStatusCallbackMethod?: string
}

/** POST /Conferences/{Sid}/Participants/{CallSid}.json: mute, hold, announce. */
export interface UpdateParticipantOptions {
  readonly muted?: boolean
  readonly hold?: boolean
  readonly holdUrl?: string
  readonly holdMethod?: string
  readonly announceUrl?: string
  readonly announceMethod?: string
  readonly waitUrl?: string
  readonly waitMethod?: string
  readonly beepOnExit?: boolean
  readonly endConferenceOnExit?: boolean
  readonly coaching?: boolean
  readonly callSidToCoach?: string
}

/** GET /Conferences/{Sid}/Participants.json: filters, page size, and how many to read at most. */
export interface ListParticipantsOptions {
  readonly muted?: boolean
  readonly hold?: boolean
  readonly coaching?: boolean
  /** Participants per page (Twilio's PageSize, at most 1000). */
  readonly pageSize?: number
  /** Stop after this many; without it every page is read. */
  readonly limit?: number
}

/** POST /Messages.json: an SMS, or an MMS with `mediaUrl`. */
export interface SendMessageOptions {
  readonly to: string
  readonly from?: string
  readonly messagingServiceSid?: string
  readonly body?: string
  readonly mediaUrl?: ReadonlyArray<string>
  readonly contentSid?: string
  readonly contentVariables?: string
  readonly statusCallback?: string
  readonly maxPrice?: number
  readonly validityPeriod?: number
  readonly shortenUrls?: boolean
}
