import { describe, expect, it } from "vitest"
import * as crypto from "node:crypto"
import { constantTimeSameLengthEquals, randomId } from "../src/Auth/Crypto.js"
import { trafficBucket } from "../src/Rollouts/TrafficSplit.js"
import { expectedSignature, signatureMatches } from "../src/Twilio/Signature.js"

// The call set-up's small crypto helpers (bench/RESULTS.md, "Stop 32, helper hookcpu") against
// node's own primitives and twilio's signer, the independent oracles.
describe("call set-up crypto", () => {
  it("a traffic bucket is the first 32 bits of SHA-256 of agent:call, mod 100", () => {
    for (let i = 0; i < 500; i++) {
      const agent = crypto.randomUUID()
      const call = `CA${crypto.randomBytes(16).toString("hex")}`
      const oracle = crypto.createHash("sha256").update(`${agent}:${call}`).digest().readUInt32BE(0) % 100
      expect(trafficBucket(agent, call)).toBe(oracle)
    }
  })

  it("pooled ids: the asked-for number of random bytes, base64url, never repeated across pool refills", () => {
    const seen = new Set<string>()
    for (let i = 0; i < 3000; i++) {
      const id = randomId(16)
      expect(Buffer.from(id, "base64url")).toHaveLength(16)
      seen.add(id)
    }
    expect(seen.size).toBe(3000)
    expect(Buffer.from(randomId(5000), "base64url")).toHaveLength(5000)
  })

  it("same-length comparison: equal only for the same text, false (not a throw) for other lengths", () => {
    expect(constantTimeSameLengthEquals("abc=", "abc=")).toBe(true)
    expect(constantTimeSameLengthEquals("abc=", "abd=")).toBe(false)
    expect(constantTimeSameLengthEquals("abc=", "abc")).toBe(false)
    // Same UTF-16 length, different byte lengths.
    expect(constantTimeSameLengthEquals("abcé", "abcd")).toBe(false)
    expect(constantTimeSameLengthEquals("", "")).toBe(true)
  })

  it("a Twilio signature is checked as twilio signs it; a wrong or odd-length header is refused", async () => {
    const twilio = (await import("twilio")).default
    const url = "https://voice.example.com/api/v1/incoming-call?agent_id=a"
    const params = { CallSid: "CA1", From: "+15551230001", To: "+15551230002", AccountSid: "AC1" }
    const given = twilio.getExpectedTwilioSignature("token-1", url, params)
    expect(expectedSignature("token-1", url, params)).toBe(given)
    expect(signatureMatches("token-1", url, params, given)).toBe(true)
    expect(signatureMatches("token-1", "https://voice.example.com:443/api/v1/incoming-call?agent_id=a", params, given)).toBe(true)
    expect(signatureMatches("token-2", url, params, given)).toBe(false)
    expect(signatureMatches("token-1", url, params, given.slice(1))).toBe(false)
    expect(signatureMatches("token-1", url, params, `${given}é`)).toBe(false)
    expect(signatureMatches("token-1", url, params, "")).toBe(false)
    expect(signatureMatches("token-1", url, params, undefined)).toBe(false)
  })
})
