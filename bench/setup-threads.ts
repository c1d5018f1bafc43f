/**
 * Where a set-up burst's CPU goes by THREAD of the service (/proc/PID/task/*): the JS main thread
 * against V8's background threads (TurboFan/Maglev compiles, concurrent GC) and libuv's pool.
 * The built service (`dist/main.js`) on a fresh database, the bench tenant and agent, 50 warm-up
 * calls at 25/s, then the service's CPU over an idle window as long as the measured one (the
 * background loops' share), then `--rate` calls/s for `--seconds` s, closed, and 3 s more.
 * Per call = thread CPU of the burst window / calls; "idle" is the same window with no calls.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/setup-threads.ts [--rate=50] [--seconds=4] [--warmup=50] [--settle=2] [--node=--flag,...] tree...
 *
 * The service runs with --trace-gc: collections per window (count and main-thread pause) are printed too.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { performance } from "node:perf_hooks"
import pg from "pg"
import { freePort, machine } from "./proc.js"
import { greetedBursts, sleep, startSetUpService, stopService } from "./setup-fixture.js"
import { spawn } from "node:child_process"
import { startFakeModel } from "./setup-model.js"
import { Inspector } from "./heap.js"

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const rate = Number(arg("rate", "50"))
const seconds = Number(arg("seconds", "4"))
const warmup = Number(arg("warmup", "50"))
/** Seconds between the warm-up's hang-ups (their records are written then) and the measured burst. */
const settle = Number(arg("settle", "2"))
const trees = process.argv.slice(2).filter((a) => !a.startsWith("--"))
/** `--node=--flag,--flag2`: node flags for the service (e.g. `--max-semi-space-size=32`). */
const nodeFlags = arg("node", "").split(",").filter((f) => f !== "")
/** `--alloc=FILE`: a sampling allocation profile of the burst window (collected objects included) to FILE. */
const allocFile = arg("alloc", "")
/**
 * `--alloc-promoted`: leave out what the young generation collected, so the profile holds what
 * survived scavenges (promoted, alive or since collected by a full GC): what scavenges copy.
 */
const allocPromoted = process.argv.includes("--alloc-promoted")
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


const startBaseline = async (flags: Array<string>, upstreamPort: number) => {
  const port = await freePort()
  const child = spawn(process.execPath, [...flags, "--import", "tsx", "bench/baseline-relay.ts"], {
    cwd: path.resolve(path.dirname(new URL(import.meta.url).pathname), ".."),
    env: { ...process.env, PORT: String(port), UPSTREAM_URL: `ws://127.0.0.1:${upstreamPort}/v1/realtime?model=gpt-realtime` },
    stdio: ["ignore", "pipe", "ignore"]
  })
  let seen = ""
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the bare relay did not start")), 60_000)
    child.stdout!.on("data", (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-4000)
      if (seen.includes("baseline relay on")) {
        clearTimeout(timer)
        resolve()
      }
    })
  })
  return { base: `http://127.0.0.1:${port}`, child }
}

const run = async (tree: string, baseUrl: URL) => {
  // `--db-prefix=NAME`: the database's name prefix (a shared server may allow only some names).
  const database = `${arg("db-prefix", "ssv_setup_threads")}_${Date.now()}`
  const admin = new pg.Client({ connectionString: baseUrl.toString() })
  await admin.connect()
  await admin.query(`create database ${database}`)
  const url = new URL(baseUrl)
  url.pathname = `/${database}`
  // The fake model greets on the service's `response.create`, on the bare relay's `session.update` (bench/setup.ts).
  const upstream = await startFakeModel(await freePort(), tree === "baseline" ? "session.update" : "response.create", () => {})
  const inspectPort = await freePort()
  const flags = [...nodeFlags, ...(allocFile === "" ? [] : [`--inspect=127.0.0.1:${inspectPort}`]), "--trace-gc-nvp"]
  // `baseline`: the bare relay (bench/baseline-relay.ts) in place of a tree, as bench/setup.ts runs it.
  const { base, child } = tree === "baseline" ? await startBaseline(flags, upstream.port) : await startSetUpService({
    tree,
    url: url.toString(),
    // --trace-gc-nvp: each window's collections and the bytes allocated, promoted and copied, from the service's stdout.
    args: [...flags, "dist/main.js"],
    env: {
      OPENAI_BASE_URL: `http://127.0.0.1:${upstream.port}/v1`,
      UPSTREAM_URL: `ws://127.0.0.1:${upstream.port}/v1/realtime?model=gpt-realtime`,
      MEDIA_MAX_PENDING_BOOTSTRAP: "5000",
      TENANT_MAX_CONCURRENT_CALLS: "100000",
      MAX_CALLS_PER_REPLICA: "100000",
      ANALYSIS_WORKER_ENABLED: process.env.ANALYSIS_WORKER_ENABLED ?? "true"
    },
    stdio: ["ignore", "pipe", "ignore"]
  })
  const gcs = { scavenges: 0, scavengeMs: 0, markCompacts: 0, markCompactMs: 0, allocated: 0, promoted: 0, survived: 0 }
  let pending = ""
  child.stdout!.on("data", (chunk: Buffer) => {
    pending += chunk.toString()
    const lines = pending.split("\n")
    pending = lines.pop()!
    for (const line of lines) {
      // "... ms: pause=1.2 mutator=3.4 gc=s ... allocated=N promoted=N new_space_survived=N ..." (gc=s: scavenge)
      const field = (name: string) => Number(new RegExp(` ${name}=([\\d.]+)`).exec(line)?.[1] ?? 0)
      const kind = / gc=(\w+)/.exec(line)?.[1]
      if (kind === undefined) continue
      if (kind === "s") {
        gcs.scavenges++
        gcs.scavengeMs += field("pause")
      } else {
        gcs.markCompacts++
        gcs.markCompactMs += field("pause")
      }
      gcs.allocated += field("allocated")
      gcs.promoted += field("promoted")
      gcs.survived += field("new_space_survived")
    }
  })
  const gcSnapshot = () => ({ ...gcs })
  try {
    const burst = greetedBursts(base)
    const warm = await burst(warmup, 25)
    for (const r of warm) if ("ws" in r) r.ws.close()
    await sleep(settle * 1000)
    const total = Math.round(rate * seconds)
    const inspector = allocFile === "" ? undefined : await Inspector.open(inspectPort)
    await inspector?.call("HeapProfiler.startSampling", {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: !allocPromoted
    })
    const g0 = gcSnapshot()
    const t0 = threads(child.pid!)
    const w0 = performance.now()
    const results = await burst(total, rate)
    for (const r of results) if ("ws" in r) r.ws.close()
    await sleep(3000)
    const window = performance.now() - w0
    const t1 = threads(child.pid!)
    const g1 = gcSnapshot()
    if (inspector !== undefined) {
      const { profile } = await inspector.call("HeapProfiler.stopSampling")
      fs.writeFileSync(allocFile, JSON.stringify(profile))
      inspector.close()
    }
    await sleep(window)
    const t2 = threads(child.pid!)
    const g2 = gcSnapshot()
    const busy = diff(t0, t1)
    const idle = diff(t1, t2)
    const failed = results.filter((r) => "error" in r).length
    const reasons = new Map<string, number>()
    for (const r of results) if ("error" in r) reasons.set(r.error.slice(0, 140), (reasons.get(r.error.slice(0, 140)) ?? 0) + 1)
    for (const [reason, count] of reasons) console.log(`  ${count} failed: ${reason}`)
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
    const gcLine = (a: typeof gcs, b: typeof gcs) =>
      `${b.scavenges - a.scavenges} scavenges (${(b.scavengeMs - a.scavengeMs).toFixed(0)} ms pause), ${b.markCompacts - a.markCompacts} other (${(b.markCompactMs - a.markCompactMs).toFixed(0)} ms pause), per call: allocated ${((b.allocated - a.allocated) / total / 1024).toFixed(0)} KB, promoted ${((b.promoted - a.promoted) / total / 1024).toFixed(1)} KB, copied in new space ${((b.survived - a.survived) / total / 1024).toFixed(1)} KB`
    console.log(`GC in the burst window: ${gcLine(g0, g1)}; idle window: ${gcLine(g1, g2)}`)
  } finally {
    await stopService(child)
    await upstream.close()
    await admin.query(`drop database if exists ${database} with (force)`)
    await admin.end()
  }
}

const main = async () => {
  const baseUrl = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres")
  for (const tree of trees) await run(tree === "baseline" ? tree : path.resolve(tree), baseUrl)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
