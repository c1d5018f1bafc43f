/**
 * `npm run bench:control`: live call control across replicas. Two real server processes on
 * one database; BENCH_CALLS simulated calls live on replica B (Twilio media socket in, a fake
 * OpenAI Realtime upstream); `whisper` actions are sent to replica A, which routes each to B
 * over B's NOTIFY channel and waits for B's answer on its own. Reports p50/p99 of
 *   - HTTP answer: POST sent -> 200 received from A (the call has applied the command);
 *   - applied upstream: POST sent -> the fake OpenAI sees the injected conversation.item.create;
 * side by side with the same action sent to B itself (no routing), and a bare baseline: a
 * raw pg_notify round trip between two pg connections (the two NOTIFYs routing adds).
 *
 *   DATABASE_URL=postgres://... npm run bench:control    (else an embedded PostgreSQL is used)
 *   BENCH_CALLS=20 BENCH_COMMANDS=300 BENCH_CONCURRENCY=4 BENCH_CPU_PROF=/tmp/prof (servers' CPU profiles)
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import pg from "pg"
import { WebSocket, WebSocketServer } from "ws"
import { freePort, machine } from "./proc.js"
import { benchDatabase } from "./postgres.js"

const CALLS = Number(process.env.BENCH_CALLS ?? 20)
const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 300)
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4)
const ADMIN_KEY = "bench-admin-key-0123456789abcdefghij"
const TENANT = "bench-control"
const TOKEN = "bench-control-token-0123456789"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN
const summary = (values: Array<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return `${percentile(sorted, 0.5).toFixed(1)} / ${percentile(sorted, 0.99).toFixed(1)} / ${sorted.at(-1)!.toFixed(1)} ms`
}

/** The OpenAI Realtime stand-in: acks the session, answers the greeting, notes when each whisper marker arrives. */
const startFakeRealtime = async () => {
  const seen = new Map<string, number>()
  const server = http.createServer((_req, res) => res.writeHead(404).end())
  const wss = new WebSocketServer({ server })
  wss.on("connection", (ws) => {
    ws.send(JSON.stringify({ type: "session.created", session: { id: "sess" } }))
    ws.on("message", (data) => {
      const event = JSON.parse(data.toString())
      if (event.type === "session.update") ws.send(JSON.stringify({ type: "session.updated", session: event.session }))
      if (event.type === "response.create") {
        const id = `resp_${Math.random()}`
        ws.send(JSON.stringify({ type: "response.created", response: { id } }))
        ws.send(JSON.stringify({ type: "response.output_audio.delta", response_id: id, item_id: `i${id}`, delta: Buffer.alloc(160, 0x7f).toString("base64") }))
        ws.send(JSON.stringify({ type: "response.done", response: { id, status: "completed" } }))
      }
      if (event.type === "conversation.item.create" && event.item?.role === "system") {
        const marker = /bench-marker-(\d+)/.exec(event.item.content?.[0]?.text ?? "")
        if (marker !== null) seen.set(marker[1]!, performance.now())
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, seen, close: () => server.close() }
}

const startServer = async (databaseUrl: string, realtimeUrl: string): Promise<{ port: number; child: ChildProcess }> => {
  const port = await freePort()
  // BENCH_CPU_PROF=<dir>: each server writes a V8 CPU profile there when it exits.
  const profile = process.env.BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []
  const child = spawn(process.execPath, [...profile, "--import", "tsx", "src/main.ts"], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: databaseUrl,
      ADMIN_API_KEY: ADMIN_KEY,
      OPENAI_BASE_URL: realtimeUrl,
      OPENAI_API_KEY: "sk-bench",
      SHUTDOWN_GRACE_SECONDS: "0",
      SHUTDOWN_CALL_DRAIN_SECONDS: "0",
      RATE_LIMIT_PER_IP_PER_MINUTE: "1000000",
      RATE_LIMIT_PER_TENANT_PER_MINUTE: "1000000",
      LOG_LEVEL: "Warning"
    },
    stdio: "ignore"
  })
  for (let ready = false; !ready;) {
    await sleep(250)
    ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.status === 200, () => false)
  }
  return { port, child }
}

/** A call as Twilio opens it (tenant bearer: an internal client), kept open; marks are acknowledged. */
const openCall = (port: number, n: number) =>
  new Promise<{ streamSid: string; ws: WebSocket }>((resolve, reject) => {
    const streamSid = `MZbench${String(n).padStart(27, "0")}`
    const ws = new WebSocket(`ws://127.0.0.1:${port}/media-stream`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ws.on("error", reject)
    ws.on("open", () => {
      ws.send(JSON.stringify({ event: "connected", protocol: "Call", version: "1.0.0" }))
      ws.send(JSON.stringify({
        event: "start",
        sequenceNumber: "1",
        streamSid,
        start: { streamSid, callSid: `CAbench${String(n).padStart(27, "0")}`, accountSid: "AC", tracks: ["inbound"], customParameters: { direction: "inbound" }, mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 } }
      }))
      resolve({ streamSid, ws })
    })
    ws.on("message", (data) => {
      const message = JSON.parse(data.toString())
      if (message.event === "mark") ws.send(JSON.stringify({ event: "mark", streamSid, mark: message.mark }))
    })
  })

const post = (port: number, path: string, body: unknown, headers: Record<string, string>) =>
  fetch(`http://127.0.0.1:${port}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) })

/** COMMANDS whispers to `port`, CONCURRENCY at a time, spread over the calls. */
const whispers = async (port: number, calls: ReadonlyArray<string>, seen: Map<string, number>, offset: number) => {
  const answered: Array<number> = []
  const applied: Array<number> = []
  const sentAt = new Map<string, number>()
  let next = 0
  const worker = async () => {
    while (next < COMMANDS) {
      const i = next++
      const id = String(offset + i)
      const start = performance.now()
      sentAt.set(id, start)
      const res = await post(port, `/api/v1/sessions/${calls[i % calls.length]}/actions/whisper`, { note: `bench-marker-${id}`, supervisor: "bench" }, {
        authorization: `Bearer ${TOKEN}`
      })
      await res.text()
      if (res.status !== 200) throw new Error(`whisper answered ${res.status}`)
      answered.push(performance.now() - start)
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  for (let waited = 0; [...sentAt.keys()].some((id) => !seen.has(id)) && waited < 10_000; waited += 20) await sleep(20)
  for (const [id, at] of sentAt) if (seen.has(id)) applied.push(seen.get(id)! - at)
  return { answered, applied }
}

/** The floor: a NOTIFY from one connection to another and the answer back, as routing does. */
const notifyRoundTrips = async (databaseUrl: string, count: number) => {
  const [one, two] = [new pg.Client({ connectionString: databaseUrl }), new pg.Client({ connectionString: databaseUrl })]
  await Promise.all([one.connect(), two.connect()])
  await one.query("listen bench_reply")
  await two.query("listen bench_command")
  // The last reply's query may still be finishing when `one` hears it: awaited before closing,
  // else `end()` rejects it ("Connection terminated") and the bench dies after measuring.
  const replies: Array<Promise<unknown>> = []
  two.on("notification", (n) => void replies.push(two.query("select pg_notify('bench_reply', $1)", [n.payload])))
  const rtts: Array<number> = []
  for (let i = 0; i < count; i++) {
    const start = performance.now()
    await new Promise<void>((resolve) => {
      one.once("notification", () => resolve())
      void one.query("select pg_notify('bench_command', $1)", [String(i)])
    })
    rtts.push(performance.now() - start)
  }
  await Promise.allSettled(replies)
  await Promise.all([one.end(), two.end()])
  return rtts
}

const main = async () => {
  const db = await benchDatabase(`ssv_bench_control_${process.pid}`)
  const databaseUrl = db.url
  const realtime = await startFakeRealtime()
  const a = await startServer(databaseUrl, realtime.url)
  const b = await startServer(databaseUrl, realtime.url)
  const put = await fetch(`http://127.0.0.1:${a.port}/api/v1/admin/tenants/${TENANT}`, {
    method: "PUT",
    headers: { "x-admin-key": ADMIN_KEY, "content-type": "application/json" },
    body: JSON.stringify({ tenant_id: TENANT, auth_token: TOKEN })
  })
  if (put.status !== 200) throw new Error(`tenant: ${put.status}`)
  await sleep(500) // every replica hears the tenant change

  const calls = []
  for (let n = 0; n < CALLS; n++) calls.push(await openCall(b.port, n))
  const streamSids = calls.map((c) => c.streamSid)
  for (let listed = 0; listed < CALLS;) {
    await sleep(100)
    const res = await fetch(`http://127.0.0.1:${a.port}/api/v1/sessions`, { headers: { authorization: `Bearer ${TOKEN}` } })
    listed = ((await res.json()) as { sessions: Array<unknown> }).sessions.length
  }

  await whispers(a.port, streamSids, realtime.seen, 1_000_000) // warm-up (JIT, pools, LISTEN)
  realtime.seen.clear()
  const routed = await whispers(a.port, streamSids, realtime.seen, 0)
  const local = await whispers(b.port, streamSids, realtime.seen, COMMANDS)
  const baseline = await notifyRoundTrips(databaseUrl, COMMANDS)

  const m = machine()
  console.log(`machine: ${m.nproc} x ${m.model}, node ${m.node}, load ${m.loadavg} (shared machine: other jobs running)`)
  console.log(`${CALLS} live calls on replica B; ${COMMANDS} whispers per case, ${CONCURRENCY} in flight`)
  console.log("| case | p50 / p99 / max |\n|---|---|")
  console.log(`| whisper to A (call on B): HTTP answer | ${summary(routed.answered)} |`)
  console.log(`| whisper to A (call on B): applied upstream (fake OpenAI sees the item) | ${summary(routed.applied)} |`)
  console.log(`| whisper to B (call on B, no routing): HTTP answer | ${summary(local.answered)} |`)
  console.log(`| whisper to B (call on B, no routing): applied upstream | ${summary(local.applied)} |`)
  console.log(`| baseline: raw pg_notify round trip between two connections | ${summary(baseline)} |`)

  for (const { ws } of calls) ws.close()
  await sleep(500)
  for (const { child } of [a, b]) {
    child.kill("SIGTERM")
    await new Promise((resolve) => child.once("exit", resolve))
  }
  realtime.close()
  await db.stop()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
