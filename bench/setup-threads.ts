/**
 * Where a set-up burst's CPU goes by THREAD of the service (/proc/PID/task/*): the JS main thread
 * against V8's background threads (TurboFan/Maglev compiles, concurrent GC) and libuv's pool.
 * The built service (`dist/main.js`) on a fresh database, the bench tenant and agent, 50 warm-up
 * calls at 25/s, then the service's CPU over an idle window as long as the measured one (the
 * background loops' share), then `--rate` calls/s for `--seconds` s, closed, and 3 s more.
 * Per call = thread CPU of the burst window / calls; "idle" is the same window with no calls.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/setup-threads.ts [--rate=50] [--seconds=4] [--warmup=50] tree...
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import pg from "pg"
import { WebSocket } from "ws"
import { freePort, machine } from "./proc.js"
import { startSetUpService, stopService } from "./setup-fixture.js"
import { startFakeModel } from "./setup-model.js"
import { ringWebhook, sendStart } from "./twilio-call.js"

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const rate = Number(arg("rate", "50"))
const seconds = Number(arg("seconds", "4"))
const warmup = Number(arg("warmup", "50"))
const trees = process.argv.slice(2).filter((a) => !a.startsWith("--"))
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))
const TICKS = 100

/** CPU seconds per thread name and user/system (threads of one name summed; the main thread apart). */
const threads = (pid: number): Map<string, number> => {
  const out = new Map<string, number>()
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8")
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/\d+$/, "N")
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      const label = tid === String(pid) ? "main (JS)" : name
      out.set(`${label} user`, (out.get(`${label} user`) ?? 0) + Number(fields[11]) / TICKS)
      out.set(`${label} system`, (out.get(`${label} system`) ?? 0) + Number(fields[12]) / TICKS)
    } catch { /* thread ended */ }
  }
  return out
}
const diff = (a: Map<string, number>, b: Map<string, number>) =>
  new Map([...b].map(([k, v]) => [k, v - (a.get(k) ?? 0)] as const))

const placeCall = async (base: string, n: number) => {
  const { callSid, stream, custom } = await ringWebhook(base, n)
  const ws = new WebSocket(stream)
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => sendStart(ws, n, callSid, custom))
    ws.on("message", (data) => {
      if (JSON.parse(data.toString()).event === "media") resolve()
    })
    ws.once("error", reject)
    ws.once("close", () => reject(new Error("closed before the greeting")))
    setTimeout(() => reject(new Error("no greeting in 30 s")), 30_000).unref()
  })
  return ws
}

const run = async (tree: string, baseUrl: URL) => {
  const database = `ssv_setup_threads_${Date.now()}`
  const admin = new pg.Client({ connectionString: baseUrl.toString() })
  await admin.connect()
  await admin.query(`create database ${database}`)
  const url = new URL(baseUrl)
  url.pathname = `/${database}`
  const upstream = await startFakeModel(await freePort(), "response.create", () => {})
  const { base, child } = await startSetUpService({
    tree,
    url: url.toString(),
    args: ["dist/main.js"],
    env: {
      OPENAI_BASE_URL: `http://127.0.0.1:${upstream.port}/v1`,
      UPSTREAM_URL: `ws://127.0.0.1:${upstream.port}/v1/realtime?model=gpt-realtime`,
      MEDIA_MAX_PENDING_BOOTSTRAP: "5000",
      TENANT_MAX_CONCURRENT_CALLS: "100000",
      MAX_CALLS_PER_REPLICA: "100000",
      ANALYSIS_WORKER_ENABLED: process.env.ANALYSIS_WORKER_ENABLED ?? "true"
    },
    stdio: ["ignore", "ignore", "ignore"]
  })
  try {
    let n = Math.floor(Math.random() * 1e6) * 1000
    const burst = async (count: number, perSecond: number) => {
      const start = performance.now()
      return Promise.all(Array.from({ length: count }, async (_, i) => {
        await sleep(start + (i * 1000) / perSecond - performance.now())
        return placeCall(base, n++).catch((error) => ({ error: String(error) }))
      }))
    }
    const warm = await burst(warmup, 25)
    for (const r of warm) if (r instanceof WebSocket) r.close()
    await sleep(2000)
    const total = Math.round(rate * seconds)
    const t0 = threads(child.pid!)
    const w0 = performance.now()
    const results = await burst(total, rate)
    for (const r of results) if (r instanceof WebSocket) r.close()
    await sleep(3000)
    const window = performance.now() - w0
    const t1 = threads(child.pid!)
    await sleep(window)
    const t2 = threads(child.pid!)
    const busy = diff(t0, t1)
    const idle = diff(t1, t2)
    const failed = results.filter((r) => !(r instanceof WebSocket)).length
    console.log(`\n${tree}: ${total - failed}/${total} calls, window ${(window / 1000).toFixed(1)} s, loadavg ${machine().loadavg}`)
    console.log("| thread | burst ms/call | idle window ms/call-equivalent |")
    console.log("|---|---|---|")
    let sb = 0, si = 0
    for (const [k, v] of [...busy].sort((a, b) => b[1] - a[1])) {
      const i = idle.get(k) ?? 0
      sb += v; si += i
      if (v + i > 0) console.log(`| ${k} | ${((v * 1000) / total).toFixed(2)} | ${((i * 1000) / total).toFixed(2)} |`)
    }
    console.log(`| all | ${((sb * 1000) / total).toFixed(2)} | ${((si * 1000) / total).toFixed(2)} |`)
  } finally {
    await stopService(child)
    await upstream.close()
    await admin.query(`drop database if exists ${database} with (force)`)
    await admin.end()
  }
}

const main = async () => {
  const baseUrl = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres")
  for (const tree of trees) await run(path.resolve(tree), baseUrl)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
