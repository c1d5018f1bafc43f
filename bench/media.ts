/**
 * `npm run bench:media`: N simulated concurrent calls through the real service (spawned:
 * `src/main.ts` with its own PostgreSQL) and, side by side, through the baseline relay in
 * bench/baseline-relay.ts. Prints added latency p50/p99 per direction, frames lost and
 * reordered, CPU and RSS per call.
 *
 *   npm run bench:media -- --levels=50,200,500,1000 --seconds=15 --targets=service,baseline
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import { monitorEventLoopDelay, performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { Load } from "./load.js"
import { startPostgres } from "./postgres.js"
import { cpuSeconds, freePort, machine, rssMb } from "./proc.js"

const ROOT = fileURLToPath(new URL("..", import.meta.url))
const ADMIN_KEY = "bench-admin-key-0123456789abcdef"
const TENANT_TOKEN = "bench-tenant-token-0123456789"

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const levels = arg("levels", "50,200,500,1000").split(",").map(Number)
const seconds = Number(arg("seconds", "15"))
const warmupSeconds = Number(arg("warmup", "3"))
/** Each level runs this many times per relay, alternating; the table shows medians (this VM is noisy). */
const rounds = Number(arg("rounds", "3"))
const targets = arg("targets", "service,baseline").split(",") as Array<"service" | "baseline">
/** `--profile=DIR`: write a V8 CPU profile of each relay process to DIR. */
const profileDir = arg("profile", "")
/** `--node-flags=...` (comma-separated): extra flags for the relay processes, e.g. --trace-gc. */
const nodeFlags = arg("node-flags", "").split(",").filter((flag) => flag !== "")
/**
 * `--pin`: relay on CPU 1, this load generator (and PostgreSQL) on CPU 0, so the two
 * never take turns on one core; the figures vary much less from run to run.
 */
const pin = process.argv.includes("--pin")
/** `--log=FILE`: keep the relay's whole output there (default: only its tail, for errors). */
const logFile = arg("log", "")

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))


const waitFor = async (what: string, probe: () => Promise<boolean>, child: ChildProcess, output: () => string) => {
  const deadline = Date.now() + 90_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what}: process exited\n${output()}`)
    if (await probe().catch(() => false)) return
    await sleep(200)
  }
  throw new Error(`${what}: not ready\n${output()}`)
}

const spawnTarget = async (target: "service" | "baseline", port: number, upstreamPort: number, databaseUrl: string) => {
  const script = target === "service" ? "src/main.ts" : "bench/baseline-relay.ts"
  const flags = [...nodeFlags, ...(profileDir === "" ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`])]
  const command = pin ? "taskset" : process.execPath
  const args = [...flags, "--import", "tsx", script]
  const child = spawn(command, pin ? ["-c", "1", process.execPath, ...args] : args, {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: databaseUrl,
      ADMIN_API_KEY: ADMIN_KEY,
      OPENAI_API_KEY: "sk-bench",
      OPENAI_BASE_URL: `http://127.0.0.1:${upstreamPort}/v1`,
      UPSTREAM_URL: `ws://127.0.0.1:${upstreamPort}/v1/realtime?model=gpt-realtime`,
      RATE_LIMIT_PER_TENANT_PER_MINUTE: "100000000",
      SHUTDOWN_GRACE_SECONDS: "0",
      MEDIA_MAX_PENDING_BOOTSTRAP: "5000",
      OTEL_EXPORTER_OTLP_ENDPOINT: ""
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let tail = ""
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-4_000)
    if (logFile !== "") fs.appendFileSync(logFile, chunk)
  }
  child.stdout!.on("data", keep)
  child.stderr!.on("data", keep)
  const base = `http://127.0.0.1:${port}`
  if (target === "service") {
    await waitFor("service", async () => (await fetch(`${base}/health/ready`)).status === 200, child, () => tail)
    const put = await fetch(`${base}/api/v1/admin/tenants/bench`, {
      method: "PUT",
      headers: { "content-type": "application/json", "x-admin-key": ADMIN_KEY },
      body: JSON.stringify({ tenant_id: "bench", auth_token: TENANT_TOKEN })
    })
    if (put.status !== 200) throw new Error(`tenant setup failed: ${put.status} ${await put.text()}`)
    // One authenticated request first, so the tenant rate limiter takes its lease before
    // hundreds of upgrades arrive at once (concurrent first hits each lease a slice).
    await fetch(`${base}/health`, { headers: { authorization: `Bearer ${TENANT_TOKEN}` } })
  } else {
    await waitFor("baseline", async () => tail.includes("baseline relay on"), child, () => tail)
  }
  return { child, output: () => tail }
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill("SIGTERM")
    setTimeout(() => child.kill("SIGKILL"), 20_000).unref()
  })

interface Row {
  readonly target: string
  readonly calls: number
  readonly up: readonly [number, number]
  readonly down: readonly [number, number]
  readonly lost: readonly [number, number]
  readonly reordered: readonly [number, number]
  readonly sent: readonly [number, number]
  readonly cpuPercent: number
  readonly rssMb: number
  readonly idleRssMb: number
  readonly harnessCpuPercent: number
  readonly harnessLagP99: number
}

const runLevel = async (target: "service" | "baseline", calls: number, databaseUrl: string): Promise<Row> => {
  const upstreamPort = await freePort()
  const load = await new Promise<Load>((resolve) => {
    const created: Load = new Load(upstreamPort, () => resolve(created))
  })
  const port = await freePort()
  const { child, output } = await spawnTarget(target, port, upstreamPort, databaseUrl)
  const pid = child.pid!
  if (process.env.BENCH_VERBOSE === "1") console.error(`${target} pid ${pid}`)
  try {
    const idleRssMb = rssMb(pid)
    const url = `ws://127.0.0.1:${port}/media-stream`
    const headers: Record<string, string> = target === "service" ? { authorization: `Bearer ${TENANT_TOKEN}` } : {}
    for (let i = 0; i < calls; i += 25) {
      await Promise.all(Array.from({ length: Math.min(25, calls - i) }, () => load.connect(url, headers)))
    }
    const deadline = Date.now() + 30_000
    while (load.upstreamSessions < calls && Date.now() < deadline) await sleep(50)
    if (load.upstreamSessions < calls) throw new Error(`only ${load.upstreamSessions}/${calls} upstream sessions\n${output()}`)

    load.start()
    await sleep(warmupSeconds * 1000)
    const lag = monitorEventLoopDelay({ resolution: 5 })
    lag.enable()
    load.up.latency.reset()
    load.down.latency.reset()
    load.up.measuring = load.down.measuring = true
    const cpu0 = cpuSeconds(pid)
    const harness0 = process.cpuUsage()
    const t0 = performance.now()
    await sleep(seconds * 1000)
    const elapsed = (performance.now() - t0) / 1000
    const cpu = cpuSeconds(pid) - cpu0
    const harness = process.cpuUsage(harness0)
    const rss = rssMb(pid)
    load.up.measuring = load.down.measuring = false
    lag.disable()
    load.stopSending()
    await sleep(2_000) // let frames in flight arrive before counting losses
    const row: Row = {
      target,
      calls,
      up: [load.up.latency.percentile(0.5), load.up.latency.percentile(0.99)],
      down: [load.down.latency.percentile(0.5), load.down.latency.percentile(0.99)],
      lost: [load.up.lost, load.down.lost],
      reordered: [load.up.reordered, load.down.reordered],
      sent: [load.up.totalSent, load.down.totalSent],
      cpuPercent: (cpu / elapsed) * 100,
      rssMb: rss,
      idleRssMb,
      harnessCpuPercent: ((harness.user + harness.system) / 1e6 / elapsed) * 100,
      harnessLagP99: lag.percentile(99) / 1e6
    }
    await load.hangUp()
    if (target === "service") await sleep(2_000) // call records are written after the hang-ups
    return row
  } finally {
    await stop(child)
    await load.close()
  }
}

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "-")

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Medians of the rounds' figures; losses and reorders are summed (any is a failure). */
const combine = (rows: ReadonlyArray<Row>): Row => {
  const m = (pick: (row: Row) => number) => median(rows.map(pick))
  const sum = (pick: (row: Row) => number) => rows.reduce((total, row) => total + pick(row), 0)
  return {
    target: rows[0]!.target,
    calls: rows[0]!.calls,
    up: [m((r) => r.up[0]), m((r) => r.up[1])],
    down: [m((r) => r.down[0]), m((r) => r.down[1])],
    lost: [sum((r) => r.lost[0]), sum((r) => r.lost[1])],
    reordered: [sum((r) => r.reordered[0]), sum((r) => r.reordered[1])],
    sent: [sum((r) => r.sent[0]), sum((r) => r.sent[1])],
    cpuPercent: m((r) => r.cpuPercent),
    rssMb: m((r) => r.rssMb),
    idleRssMb: m((r) => r.idleRssMb),
    harnessCpuPercent: m((r) => r.harnessCpuPercent),
    harnessLagP99: m((r) => r.harnessLagP99)
  }
}

const HEADER = "| relay | calls | up p50 / p99 ms | down p50 / p99 ms | lost up / down | reordered up / down | CPU % of a core | CPU % per call | RSS MB | RSS KB per call | load gen CPU % / loop lag p99 ms |\n" +
  "|---|---|---|---|---|---|---|---|---|---|---|"

const format = (row: Row) => {
  const perCallCpu = row.cpuPercent / row.calls
  const perCallRss = (row.rssMb - row.idleRssMb) / row.calls
  return `| ${row.target} | ${row.calls} | ${f(row.up[0])} / ${f(row.up[1])} | ${f(row.down[0])} / ${f(row.down[1])} | ` +
    `${row.lost[0]} / ${row.lost[1]} | ${row.reordered[0]} / ${row.reordered[1]} | ${f(row.cpuPercent)} | ${f(perCallCpu, 3)} | ` +
    `${f(row.rssMb, 0)} | ${f(perCallRss * 1024, 0)} | ${f(row.harnessCpuPercent)} / ${f(row.harnessLagP99)} |`
}

const main = async () => {
  if (pin) spawnSync("taskset", ["-cp", "0", String(process.pid)])
  const m = machine()
  console.log(`machine: ${m.nproc} cpus, ${m.model}, node ${m.node}, loadavg at start ${m.loadavg}`)
  console.log(`levels ${levels.join(", ")}; ${warmupSeconds} s warm-up + ${seconds} s measured; ${rounds} round(s) per relay, alternating\n`)
  console.log("each round:\n" + HEADER)
  const results: Array<Row> = []
  const postgres = await startPostgres()
  try {
    for (const calls of levels) {
      const byTarget = new Map<string, Array<Row>>()
      for (let round = 0; round < rounds; round++) {
        for (const target of targets) {
          const row = await runLevel(target, calls, postgres.url)
          console.log(format(row))
          byTarget.set(target, [...(byTarget.get(target) ?? []), row])
        }
      }
      for (const rows of byTarget.values()) results.push(combine(rows))
    }
  } finally {
    await postgres.stop()
  }
  console.log(`\nmedians of ${rounds} round(s):\n${HEADER}`)
  for (const row of results) console.log(format(row))
  console.log(`\nloadavg at end ${machine().loadavg}`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
