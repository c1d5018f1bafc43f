/**
 * CPU per call at a set-up burst, alternating trees in one session (A/B): each run starts the
 * tree's built service (`node dist/main.js`) on a fresh database of the local PostgreSQL, sets up
 * the bench tenant and agent as bench/setup.ts does, warms up (50 calls at 25/s), then places
 * `--rate` calls/s for `--seconds` s, closes them, waits 3 s (records, events) and reads the
 * service's CPU from /proc. Also counts the service's stdout lines (JSON log) per call
 * (`--log=FILE` appends them to FILE), and with `--statements=<server log>` the database's
 * statements per call (log_statement = 'all' on the run's database). `--explain=1`: auto_explain
 * logs every statement of the run's database (nested ones too) with its actual times and triggers.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/setup-ab.ts [--rate=50] [--seconds=4] [--rounds=3] treeA treeB
 *
 * Both trees need dist/ built (`npm run build`).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import pg from "pg"
import { sampleWaitsApart } from "./postgres.js"
import { backendCpu, backendCpuSince, cpuSeconds, listenOverflows, machine } from "./proc.js"
import {
  arg,
  BURST_ENV,
  freshDatabase,
  greetedBursts,
  loggedDurations,
  loggedStatements,
  sleep,
  startBenchModel,
  startSetUpService,
  stopService
} from "./setup-fixture.js"
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
const pct = (values: Array<number>, p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

const run = async (spec: string, baseUrl: URL) => {
  const { dir: tree, env: extraEnv, label } = parseTree(spec)
  const database = `ssv_setup_ab_${Date.now()}`
  const { admin, url, drop } = await freshDatabase(baseUrl, database)
  // `--statements`: every statement of this database logged, counted per call from the server log.
  const pgLog = arg("statements", "")
  if (pgLog !== "") await admin.query(`alter database ${database} set log_statement = 'all'`)
  // `--durations`: every statement's run time logged, summed per statement text from the server log.
  const durationLog = arg("durations", "")
  if (durationLog !== "") await admin.query(`alter database ${database} set log_min_duration_statement = 0`)
  // `--explain`: every statement's plan with its actual times, triggers and buffers, nested statements
  // (functions, triggers) included, logged by auto_explain for this database only (to the server log).
  if (arg("explain", "") !== "") {
    await admin.query(`alter database ${database} set session_preload_libraries = 'auto_explain'`)
    for (const [name, value] of [["log_min_duration", "0"], ["log_analyze", "on"], ["log_buffers", "on"], ["log_triggers", "on"], ["log_nested_statements", "on"], ["log_verbose", "on"]]) {
      await admin.query(`alter database ${database} set auto_explain.${name} = '${value}'`)
    }
  }
  const upstream = await startBenchModel()
  const { base, child } = await startSetUpService({
    tree,
    url: url.toString(),
    args: ["dist/main.js"],
    env: {
      ...upstream.env,
      ...BURST_ENV,
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
    const burst = greetedBursts(base)
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
    const pgCpu0 = await backendCpu(url.toString())
    const overflows0 = listenOverflows()
    const cpu0 = cpuSeconds(child.pid!)
    const log0 = pgLog === "" ? 0 : fs.statSync(pgLog).size
    const durations0 = durationLog === "" ? 0 : fs.statSync(durationLog).size
    const lines0 = lines
    const total = Math.round(rate * seconds)
    // `--waits`: what the service's connections do during the burst (bench/postgres.ts sampleWaits).
    const waits = arg("waits", "") === "" ? undefined : sampleWaitsApart(url.toString(), database, seconds * 1000 + 500)
    const results = await burst(total, rate)
    // Machine-wide: connections dropped because an accept queue was full (their clients retry at 1 s, 3 s).
    const overflows = listenOverflows() - overflows0
    if (waits !== undefined) {
      const w = await waits
      console.error(`  ${label}: ${w.samples} samples, ${w.backends.toFixed(1)} connections, all busy in ${(w.poolFull * 100).toFixed(0)} %: ` +
        w.shares.map(([k, v]) => `${k} ${(v * 100).toFixed(1)} %`).join(", "))
    }
    for (const r of results) if ("ws" in r) r.ws.close()
    await sleep(3000)
    await drainAnalysis()
    const cpu = ((cpuSeconds(child.pid!) - cpu0) * 1000) / total
    // The run's database's backends (the service's pool, its listener): PostgreSQL's share of a call.
    const pgCpu = (backendCpuSince(pgCpu0, await backendCpu(url.toString())) * 1000) / total
    let statements = "-"
    if (pgLog !== "") {
      const { total: logged, kinds } = loggedStatements(pgLog, log0, database)
      statements = (logged / total).toFixed(1)
      for (const [k, v] of kinds.slice(0, 25)) console.error(`  ${(v / total).toFixed(2)}  ${k}`)
    }
    if (durationLog !== "") {
      for (const d of loggedDurations(durationLog, durations0, database).slice(0, 8)) {
        console.error(`  ${label}: ${(d.count / total).toFixed(2)}/call p50 ${d.p50.toFixed(2)} p99 ${d.p99.toFixed(2)} ms, ${(d.total / total).toFixed(2)} ms/call  ${d.text}`)
      }
    }
    const failures = new Map<string, number>()
    for (const r of results) if ("error" in r) failures.set(r.error.slice(0, 160), (failures.get(r.error.slice(0, 160)) ?? 0) + 1)
    for (const [reason, count] of failures) console.error(`  ${label}: ${count} failed: ${reason}`)
    const ok = results.filter((r): r is Exclude<typeof r, { error: string }> => "ws" in r)
    const w = ok.map((r) => r.webhook)
    const g = ok.map((r) => r.greeting)
    return `| ${label} | ${ok.length}/${total} | ${pct(w, 50).toFixed(1)} / ${pct(w, 99).toFixed(1)} | ${pct(g, 50).toFixed(1)} / ${pct(g, 99).toFixed(1)} | ${cpu.toFixed(1)} | ${pgCpu.toFixed(1)} | ${overflows} | ${((lines - lines0) / total).toFixed(1)} | ${statements} | ${machine().loadavg} |`
  } finally {
    await stopService(child)
    await upstream.close()
    await drop()
  }
}

const main = async () => {
  const baseUrl = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres")
  console.log(`${rate}/s for ${seconds} s after 50 warm-up calls; ${rounds} rounds alternating ${trees.join(" / ")}`)
  console.log("| tree | completed | webhook -> TwiML p50 / p99 ms | webhook -> greeting p50 / p99 ms | CPU ms/call | PG CPU ms/call | ListenOverflows | log lines/call | SQL statements/call | loadavg after |")
  console.log("|---|---|---|---|---|---|---|---|---|---|")
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? trees : [...trees].reverse()
    for (const tree of order) console.log(await run(tree, baseUrl))
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
