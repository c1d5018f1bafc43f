/**
 * Which call, of whom, which way: what the media bridge knows once a stream authenticates
 * and what every record of that call (log, session, outcome) is keyed and labelled by.
 */
export interface CallKey {
  readonly tenantId: string
  readonly streamSid: string
  readonly callSid: string | null
  readonly direction: "inbound" | "outbound"
  readonly from: string | null
  readonly to: string | null
  readonly agentVersionId: string | null
}
