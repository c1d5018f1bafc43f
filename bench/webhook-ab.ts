/**
 * CPU per incoming-call webhook, source trees alternating (A B A B ...), for A/B work on the
 * webhook path alone (bench/setup.ts is the whole call set-up under bursts, whose latencies a
 * shared machine makes unreadable). Each tree runs from source (`tsx src/main.ts`) on a database
 * of its own (fresh for every run); the service's CPU time (/proc) is read around WH_CALLS signed webhooks sent
 * WH_CONCURRENCY at a time, after WH_WARMUP. The calls are admitted and answered with TwiML but
 * never connected (TENANT_MAX_CONCURRENT_CALLS and MAX_CALLS_PER_REPLICA are lifted so every one takes the admitted path).
 * Client-side latency at concurrency 1 (WH_SEQUENTIAL calls) is printed too: the service time
 * without queueing.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/webhook-ab.ts /work/main . bare
 *   WH_CALLS=400 WH_WARMUP=100 WH_CONCURRENCY=8 WH_SEQUENTIAL=100 WH_ROUNDS=3 WH_BUILT=1 WH_PROFILE=DIR
 *
 * `bare` is bench/baseline-relay.ts (static TwiML, what bench:setup compares with). WH_BUILT=1 runs
 * each tree's `dist/main.js` (build it first), as bench:setup does. PG CPU is the run database's
 * backends' CPU over the same window. WH_PROFILE=DIR writes a `--cpu-prof` of each service run there.
 *
 * Every run gets a fresh database: the admitted calls are never ended, and the admission's
 * statement slows down as they pile up (1,800 of them took it to ~13 webhooks/s), so runs are
 * kept short and comparable rather than long.
 */
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import pg from "pg"
import { backendCpu, backendCpuSince, cpuSeconds, freePort } from "./proc.js"
import { spawn } from "node:child_process"
import { startSetUpService, stopService } from "./setup-fixture.js"
import { ringWebhook } from "./twilio-call.js"

const CALLS = Number(process.env.WH_CALLS ?? 400)
const WARMUP = Number(process.env.WH_WARMUP ?? 100)
const CONCURRENCY = Number(process.env.WH_CONCURRENCY ?? 8)
const SEQUENTIAL = Number(process.env.WH_SEQUENTIAL ?? 100)
const ROUNDS = Number(process.env.WH_ROUNDS ?? 3)
const BUILT = process.env.WH_BUILT === "1"
const PROFILE = process.env.WH_PROFILE
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

let next = Math.floor(Math.random() * 1e6) * 10_000

const burst = async (base: string, calls: number, concurrency: number) => {
  let left = calls
  const worker = async () => {
    while (left-- > 0) await ringWebhook(base, next++)
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

const sequential = async (base: string, calls: number) => {
  const ms: Array<number> = []
  for (let i = 0; i < calls; i++) {
    const started = performance.now()
    await ringWebhook(base, next++)
    ms.push(performance.now() - started)
  }
  ms.sort((a, b) => a - b)
  return { p50: ms[Math.floor(ms.length * 0.5)]!, p99: ms[Math.floor(ms.length * 0.99)]! }
}

/** The bare relay on a free port, ready. */
const startBare = async () => {
  const port = await freePort()
  const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "baseline-relay.ts")], {
    env: { ...process.env, PORT: String(port) },
    stdio: ["ignore", "pipe", "inherit"]
  })
  await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()))
  child.stdout!.resume()
  return { base: `http://127.0.0.1:${port}`, child }
}

const run = async (tree: string, url: string) => {
  // Every call takes the admitted path: no concurrency caps in the way.
  const nodeArgs = [
    ...(PROFILE === undefined ? [] : ["--cpu-prof", "--cpu-prof-interval=250", `--cpu-prof-dir=${PROFILE}`]),
    ...(process.env.WH_NODE_FLAGS ?? "").split(" ").filter((f) => f !== "")
  ]
  const { base, child } = tree === "bare" ? await startBare() : await startSetUpService({
    tree,
    url,
    ...(BUILT || nodeArgs.length > 0 ? { args: [...nodeArgs, BUILT ? "dist/main.js" : "--import=tsx", ...(BUILT ? [] : ["src/main.ts"])] } : {}),
    env: { TENANT_MAX_CONCURRENT_CALLS: "100000000", MAX_CALLS_PER_REPLICA: "100000000" }
  })
  try {
    await burst(base, WARMUP, CONCURRENCY)
    await sleep(500)
    if (process.env.WH_NODE_FLAGS !== undefined) console.error(`service pid ${child.pid}: burst starts`)
    // The service's own background loops, idle, over the same kind of window: the floor under every figure.
    const idle0 = cpuSeconds(child.pid!)
    await sleep(2000)
    const idleMsPerSecond = ((cpuSeconds(child.pid!) - idle0) * 1000) / 2
    const pg0 = await backendCpu(url)
    const before = cpuSeconds(child.pid!)
    const started = performance.now()
    await burst(base, CALLS, CONCURRENCY)
    const wall = (performance.now() - started) / 1000
    const cpuMs = ((cpuSeconds(child.pid!) - before) * 1000) / CALLS
    const pgMs = (backendCpuSince(pg0, await backendCpu(url)) * 1000) / CALLS
    const latency = await sequential(base, SEQUENTIAL)
    return { cpuMs, pgMs, idleMsPerSecond, perSecond: CALLS / wall, ...latency }
  } finally {
    await stopService(child)
  }
}

const main = async () => {
  const baseUrl = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres")
  const trees = (process.argv.slice(2).length > 0 ? process.argv.slice(2) : [process.cwd()]).map((t) => t === "bare" ? t : path.resolve(t))
  const databases: Array<string> = []
  const adminDb = new pg.Client({ connectionString: baseUrl.toString() })
  await adminDb.connect()
  try {
    console.log(`${CALLS} webhooks at concurrency ${CONCURRENCY} after ${WARMUP} warm-up; then ${SEQUENTIAL} one at a time`)
    console.log("| round | tree | CPU ms per webhook | PG CPU ms per webhook | webhooks/s | sequential p50 / p99 ms | idle CPU ms/s | load average |")
    console.log("|---|---|---|---|---|---|---|---|")
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [i, tree] of trees.entries()) {
        const db = `ssv_webhook_ab_${i}_${round}_${Date.now()}`
        await adminDb.query(`create database ${db}`)
        databases.push(db)
        const url = new URL(baseUrl)
        url.pathname = `/${db}`
        const r = await run(tree, url.toString())
        const load = (await import("node:os")).loadavg().map((l) => l.toFixed(1)).join(" ")
        console.log(`| ${round} | ${tree} | ${r.cpuMs.toFixed(2)} | ${r.pgMs.toFixed(2)} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(1)} / ${r.p99.toFixed(1)} | ${r.idleMsPerSecond.toFixed(0)} | ${load} |`)
      }
    }
  } finally {
    for (const db of databases) await adminDb.query(`drop database if exists ${db} with (force)`)
    await adminDb.end()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
