/** Which way a call goes: `web` is a test call from the console's browser (no Twilio call behind it). */
export type CallDirection = "inbound" | "outbound" | "web"

/**
 * Which call, of whom, which way: what the media bridge knows once a stream authenticates
 * and what every record of that call (log, session, outcome) is keyed and labelled by.
 */
export interface CallKey {
  readonly tenantId: string
  readonly streamSid: string
  readonly callSid: string | null
  readonly direction: CallDirection
  readonly from: string | null
  readonly to: string | null
  readonly agentVersionId: string | null
}

/** The key of the call `id` names, with the agent version it runs (the set-up's choice, not the stream's). */
export const callKey = (id: Omit<CallKey, "agentVersionId">, agentVersionId: string | null): CallKey => ({
  tenantId: id.tenantId,
  streamSid: id.streamSid,
  callSid: id.callSid,
  direction: id.direction,
  from: id.from,
  to: id.to,
  agentVersionId
})

/**
 * The Twilio call behind a call key, if there is one: a console test call (`web`) carries a
 * made-up SID, so Twilio's REST API (hang up, apologise, transfer) must never be asked about it.
 */
export const twilioCallSid = (key: Pick<CallKey, "callSid" | "direction">): string | null =>
  key.direction === "web" ? null : key.callSid
