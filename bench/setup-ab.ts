/**
 * CPU per call at a set-up burst, alternating trees in one session (A/B): each run starts the
 * tree's built service (`node dist/main.js`) on a fresh database of the local PostgreSQL, sets up
 * the bench tenant and agent as bench/setup.ts does, warms up (50 calls at 25/s), then places
 * `--rate` calls/s for `--seconds` s, closes them, waits 3 s (records, events) and reads the
 * service's CPU from /proc. Also counts the service's stdout lines (JSON log) per call
 * (`--log=FILE` appends them to FILE), and with `--statements=<server log>` the database's
 * statements per call (log_statement = 'all' on the run's database).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/setup-ab.ts [--rate=50] [--seconds=4] [--rounds=3] treeA treeB
 *
 * Both trees need dist/ built (`npm run build`).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import pg from "pg"
import { WebSocket } from "ws"
import { cpuSeconds, freePort, machine } from "./proc.js"
import { startSetUpService, stopService } from "./setup-fixture.js"
import { startFakeModel } from "./setup-model.js"
import { ringWebhook, sendStart } from "./twilio-call.js"

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const rate = Number(arg("rate", "50"))
const seconds = Number(arg("seconds", "4"))
const rounds = Number(arg("rounds", "3"))
/** `tree` or `tree@NAME=value,...`: the service's environment for that run (e.g. `.@ANALYSIS_WORKER_ENABLED=false`). */
const trees = process.argv.slice(2).filter((a) => !a.startsWith("--"))
const parseTree = (spec: string) => {
  const [dir, extra] = spec.split("@") as [string, string | undefined]
  const env = Object.fromEntries((extra ?? "").split(",").filter((kv) => kv !== "").map((kv) => kv.split("=", 2) as [string, string]))
  return { dir: path.resolve(dir), env, label: `${path.basename(path.resolve(dir))}${extra === undefined ? "" : ` ${extra}`}` }
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))
const pct = (values: Array<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

const placeCall = async (base: string, n: number) => {
  const t0 = performance.now()
  const { callSid, stream, custom } = await ringWebhook(base, n)
  const webhook = performance.now() - t0
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
  return { ws, webhook, greeting: performance.now() - t0 }
}

const run = async (spec: string, baseUrl: URL) => {
  const { dir: tree, env: extraEnv, label } = parseTree(spec)
  const database = `ssv_setup_ab_${Date.now()}`
  const admin = new pg.Client({ connectionString: baseUrl.toString() })
  await admin.connect()
  await admin.query(`create database ${database}`)
  // `--statements`: every statement of this database logged, counted per call from the server log.
  const pgLog = arg("statements", "")
  if (pgLog !== "") await admin.query(`alter database ${database} set log_statement = 'all'`)
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
      // The analyses run here unless the tree's environment says otherwise (`--drain-analysis`).
      ANALYSIS_WORKER_ENABLED: process.env.ANALYSIS_WORKER_ENABLED ?? "true",
      ...extraEnv
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let lines = 0
  const logFile = arg("log", "")
  child.stdout!.on("data", (chunk: Buffer) => {
    if (logFile !== "") fs.appendFileSync(logFile, chunk)
    for (const byte of chunk) if (byte === 10) lines++
  })
  child.stderr!.resume()
  try {
    let n = Math.floor(Math.random() * 1e6) * 1000
    const burst = async (count: number, perSecond: number) => {
      const start = performance.now()
      return Promise.all(Array.from({ length: count }, async (_, i) => {
        await sleep(start + (i * 1000) / perSecond - performance.now())
        return placeCall(base, n++).catch((error) => ({ error: String(error) }))
      }))
    }
    // `--drain-analysis`: the post-call analyses (CallAnalysis worker) of the warm-up done before
    // the CPU is first read and those of the burst before it is read again, so the figure holds
    // each measured call's analysis whole rather than what fits the window.
    const drainAnalysis = async () => {
      // Nothing drains them on a service without the worker (the calls' jobs wait for another replica).
      if (arg("drain-analysis", "") === "" || (extraEnv.ANALYSIS_WORKER_ENABLED ?? process.env.ANALYSIS_WORKER_ENABLED) === "false") return
      const db = new pg.Client({ connectionString: url.toString() })
      await db.connect()
      for (let i = 0; i < 240; i++) {
        const { rows } = await db.query("select count(*)::int as n from call_analysis_jobs where status = 'pending'")
        if (rows[0].n === 0) break
        await sleep(250)
      }
      await db.end()
    }
    const warm = await burst(50, 25)
    for (const r of warm) if ("ws" in r) r.ws.close()
    await sleep(2000)
    await drainAnalysis()
    const cpu0 = cpuSeconds(child.pid!)
    const log0 = pgLog === "" ? 0 : fs.statSync(pgLog).size
    const lines0 = lines
    const total = Math.round(rate * seconds)
    const results = await burst(total, rate)
    for (const r of results) if ("ws" in r) r.ws.close()
    await sleep(3000)
    await drainAnalysis()
    const cpu = ((cpuSeconds(child.pid!) - cpu0) * 1000) / total
    let statements = "-"
    if (pgLog !== "") {
      const fd = fs.openSync(pgLog, "r")
      const buffer = Buffer.alloc(fs.fstatSync(fd).size - log0)
      fs.readSync(fd, buffer, 0, buffer.length, log0)
      fs.closeSync(fd)
      // One entry per log line header; continuation lines (the statement's later lines) joined to it.
      const entries: Array<string> = []
      for (const line of buffer.toString("utf8").split("\n")) {
        if (/^\d{4}-\d\d-\d\d /.test(line)) entries.push(line)
        else if (entries.length > 0) entries[entries.length - 1] += ` ${line}`
      }
      const mine = entries.filter((l) => l.includes(`@${database} LOG:`) && /LOG:\s+(statement|execute)/.test(l))
      const kinds = new Map<string, number>()
      for (const l of mine) {
        const text = l.replace(/^.*LOG:\s+(statement|execute[^:]*):\s*/, "").replace(/\s+/g, " ").slice(0, 90)
        kinds.set(text, (kinds.get(text) ?? 0) + 1)
      }
      statements = (mine.length / total).toFixed(1)
      for (const [k, v] of [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.error(`  ${(v / total).toFixed(2)}  ${k}`)
    }
    const failures = new Map<string, number>()
    for (const r of results) if ("error" in r) failures.set(r.error.slice(0, 160), (failures.get(r.error.slice(0, 160)) ?? 0) + 1)
    for (const [reason, count] of failures) console.error(`  ${label}: ${count} failed: ${reason}`)
    const ok = results.filter((r): r is Exclude<typeof r, { error: string }> => "ws" in r)
    const w = ok.map((r) => r.webhook)
    const g = ok.map((r) => r.greeting)
    return `| ${label} | ${ok.length}/${total} | ${pct(w, 50).toFixed(1)} / ${pct(w, 99).toFixed(1)} | ${pct(g, 50).toFixed(1)} / ${pct(g, 99).toFixed(1)} | ${cpu.toFixed(1)} | ${((lines - lines0) / total).toFixed(1)} | ${statements} | ${machine().loadavg} |`
  } finally {
    await stopService(child)
    await upstream.close()
    await admin.query(`drop database if exists ${database} with (force)`)
    await admin.end()
  }
}

const main = async () => {
  const baseUrl = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres")
  console.log(`${rate}/s for ${seconds} s after 50 warm-up calls; ${rounds} rounds alternating ${trees.join(" / ")}`)
  console.log("| tree | completed | webhook -> TwiML p50 / p99 ms | webhook -> greeting p50 / p99 ms | CPU ms/call | log lines/call | SQL statements/call | loadavg after |")
  console.log("|---|---|---|---|---|---|---|---|")
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? trees : [...trees].reverse()
    for (const tree of order) console.log(await run(tree, baseUrl))
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
