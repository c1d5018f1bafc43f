/** One call of bench/setup.ts as Twilio places it, its step timings, and the figures' formatting. */
import { performance } from "node:perf_hooks"
import { WebSocket } from "ws"
import { ringWebhook, sendStart } from "./twilio-call.js"

export interface Timings {
  /** Wall-clock (ms since the epoch) when the webhook and the upgrade were sent. */
  sent?: number
  upgradeSent?: number
  webhook?: number
  upgrade?: number
  accepted?: number
  greeting?: number
  failed?: string
  /** Wall-clock when the call failed (bench/setup-timeline.ts). */
  failedAt?: number
  /** The upgrade's TCP connection: its local port and when it connected (wall-clock). */
  port?: number
  connected?: number
}

/** One call as Twilio makes it; fills `t` as each step completes. */
export const placeCall = async (base: string, n: number, t: Timings, accepted: Map<number, () => void>) => {
  const t0 = performance.now()
  t.sent = performance.timeOrigin + t0
  const { callSid, stream, custom } = await ringWebhook(base, n)
  t.webhook = performance.now() - t0
  const t1 = performance.now()
  t.upgradeSent = performance.timeOrigin + t1
  const ws = new WebSocket(stream)
  // ws's ClientRequest (not public API): the connection's port pairs it with the target's CONNMARK lines.
  ;(ws as unknown as { _req: import("node:http").ClientRequest })._req.once("socket", (socket) =>
    socket.once("connect", () => {
      t.port = socket.localPort
      t.connected = performance.timeOrigin + performance.now()
    }))
  accepted.set(n, () => (t.accepted = performance.now() - t1))
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => {
      t.upgrade = performance.now() - t1
      sendStart(ws, n, callSid, custom)
    })
    ws.on("message", (data) => {
      const message = JSON.parse(data.toString())
      if (message.event === "media" && t.greeting === undefined) {
        t.greeting = performance.now() - t0
        resolve()
      }
    })
    ws.once("error", reject)
    ws.once("close", () => reject(new Error("closed before the greeting")))
    setTimeout(() => reject(new Error("no greeting in 30 s")), 30_000).unref()
  })
  return ws
}

export const pct = (values: Array<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}
export const f = (n: number) => (Number.isFinite(n) ? n.toFixed(n < 10 ? 1 : 0) : "-")
