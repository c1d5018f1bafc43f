import { sha256 } from "../Auth/Crypto.js"

export interface TrafficWeight {
  readonly agent_version_id: string
  readonly traffic_percentage: number
}

/**
 * A call's bucket in 0..99, from a hash of the agent and the call SID: the same call always
 * lands in the same bucket (retried webhooks, reconnects), different agents split
 * independently, and over many calls the buckets are uniform.
 */
export const trafficBucket = (agentId: string, callSid: string): number =>
  // One-shot digest (Auth/Crypto.ts): the same bytes as a Hash object's, without the object (every call).
  sha256(`${agentId}:${callSid}`).readUInt32BE(0) % 100

/** The version whose share of 0..99 contains the call's bucket; undefined when the split is empty. */
export const pickVersion = (
  weights: ReadonlyArray<TrafficWeight>,
  agentId: string,
  callSid: string
): string | undefined => {
  const bucket = trafficBucket(agentId, callSid)
  let upper = 0
  for (const weight of weights) {
    upper += weight.traffic_percentage
    if (weight.traffic_percentage > 0 && bucket < upper) return weight.agent_version_id
  }
  return undefined
}
