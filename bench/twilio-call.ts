/** One inbound call as Twilio places it, for the set-up benchmarks (bench/setup.ts, bench/setup-ops.ts). */
import * as http from "node:http"
import twilio from "twilio"
import type { WebSocket } from "ws"

export const ACCOUNT = { sid: `AC${"be".repeat(16)}`, token: "bench-twilio-auth-token" }

/**
 * A POST on kept-alive connections. undici's `fetch` was 42 % of the load generator's busy time in a
 * 50/s burst (bench/RESULTS.md, helper stalls), and the generator's own loop delay is in every figure;
 * `BENCH_WEBHOOK_CLIENT=fetch` sends with `fetch` as before (figures comparable with earlier runs).
 */
const agent = new http.Agent({ keepAlive: true })
const post = async (url: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> => {
  if (process.env.BENCH_WEBHOOK_CLIENT === "fetch") {
    const res = await fetch(url, { method: "POST", headers, body })
    return { status: res.status, text: await res.text() }
  }
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: "POST", agent, headers: { ...headers, "content-length": Buffer.byteLength(body) } }, (res) => {
      let text = ""
      res.setEncoding("utf8")
      res.on("data", (chunk: string) => (text += chunk))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }))
      res.on("error", reject)
    })
    request.on("error", reject)
    request.end(body)
  })
}

/** The signed incoming-call webhook for call `n`; the media stream's URL and parameters from its TwiML. */
export const ringWebhook = async (base: string, n: number) => {
  const params: Record<string, string> = {
    CallSid: `CA${String(n).padStart(32, "0")}`,
    AccountSid: ACCOUNT.sid,
    From: "+15551230001",
    To: "+15551230002",
    Direction: "inbound",
    CallStatus: "ringing"
  }
  const url = `${base}/api/v1/incoming-call`
  const headers = { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilio.getExpectedTwilioSignature(ACCOUNT.token, url, params) }
  const res = await post(url, headers, new URLSearchParams(params).toString())
  const xml = res.text
  const stream = /<Stream url="([^"]+)"/.exec(xml)?.[1]?.replaceAll("&amp;", "&")
  if (res.status !== 200 || stream === undefined) throw new Error(`webhook ${res.status}: ${xml.slice(0, 200)}`)
  const custom = Object.fromEntries([...xml.matchAll(/<Parameter name="([^"]+)" value="([^"]*)"\/>/g)].map((m) => [m[1], m[2]]))
  return { callSid: params.CallSid!, stream, custom }
}

/** `connected`, `start` and one caller frame on an open media socket, as Twilio sends them. */
export const sendStart = (ws: WebSocket, n: number, callSid: string, custom: Record<string, string | undefined>) => {
  const streamSid = `MZ${String(n).padStart(32, "0")}`
  const frame = Buffer.alloc(160, 0x7f)
  frame.writeUInt32BE(n, 0)
  ws.send(JSON.stringify({ event: "connected", protocol: "Call", version: "1.0.0" }))
  ws.send(JSON.stringify({ event: "start", sequenceNumber: "1", streamSid, start: { streamSid, callSid, accountSid: ACCOUNT.sid, tracks: ["inbound"], customParameters: custom, mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 } } }))
  ws.send(JSON.stringify({ event: "media", sequenceNumber: "2", streamSid, media: { track: "inbound", chunk: "1", timestamp: "0", payload: frame.toString("base64") } }))
}
