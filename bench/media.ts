/**
 * `npm run bench:media`: N simulated concurrent calls through the real service (spawned:
 * `src/main.ts` with its own PostgreSQL) and, side by side, through the baseline relay in
 * bench/baseline-relay.ts. Prints added latency p50/p99 per direction, frames lost and
 * reordered, CPU per call, and memory per call measured the same way for both relays: each
 * relay first carries a warm-up cycle of calls (so code compiled and caches filled once are not
 * charged to calls), then, through its inspector, a full collection and a reading at 0 calls and
 * again with N calls streaming: RSS, V8 heap used, external and arrayBuffers (bench/heap.ts).
 *
 *   npm run bench:media -- --levels=50,200,500,1000 --seconds=15 --targets=service,baseline
 *   npm run bench:media -- --levels=200 --rounds=2 --snapshots=/tmp/snap   # + heap snapshots 0 vs N by constructor
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import { monitorEventLoopDelay, performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import * as path from "node:path"
import { Inspector, perCallDiff, summarize, type Usage } from "./heap.js"
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
/** `--service-flags=...` (comma-separated): extra flags for the service's node only, after the others. */
const serviceFlags = arg("service-flags", "").split(",").filter((flag) => flag !== "")
/**
 * `--pin`: relay on CPU 1, this load generator (and PostgreSQL) on CPU 0, so the two
 * never take turns on one core; the figures vary much less from run to run.
 */
const pin = process.argv.includes("--pin")
/** `--log=FILE`: keep the relay's whole output there (default: only its tail, for errors). */
const logFile = arg("log", "")
/** `--warm-calls=N`: calls connected, streamed for 2 s and hung up before the 0-call memory reading. */
const warmCalls = Number(arg("warm-calls", "20"))
/** `--samples=N`: memory readings (each after a full collection, 1 s apart) at 0 and at N calls. */
const samples = Number(arg("samples", "3"))
/**
 * `--built`: both relays as plain JavaScript, as deployed: the service from `dist/` (run
 * `npx tsc -p tsconfig.build.json` first), the bare relay compiled here with esbuild. Under tsx
 * (the default) esbuild's keepNames gives every named closure a property store (~7 KB per call
 * in the service's heap), which is not what production carries.
 */
const built = process.argv.includes("--built")
/** `--dist=DIR` (with --built): the service's build to run, e.g. a base tree built with `--outDir dist-base`. */
const distDir = arg("dist", "dist")
/**
 * `--snapshots=DIR`: heap snapshots at 0 and N calls (same process), summed by constructor.
 * Taking one leaves the process's malloc arenas larger: RSS read after it is not comparable.
 */
const snapshotDir = arg("snapshots", "")
if (snapshotDir !== "") fs.mkdirSync(snapshotDir, { recursive: true })

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

/** The bare relay as plain JavaScript (for --built), next to dist/main.js so that `ws` resolves. */
const builtBaseline = () => {
  const out = path.join(ROOT, "dist", "bench-baseline-relay.mjs")
  const result = spawnSync(path.join(ROOT, "node_modules", ".bin", "esbuild"), [
    "bench/baseline-relay.ts", "--format=esm", "--platform=node", `--outfile=${out}`
  ], { cwd: ROOT, encoding: "utf8" })
  if (result.status !== 0) throw new Error(`esbuild of the bare relay failed: ${result.stderr}`)
  return out
}

const spawnTarget = async (target: "service" | "baseline", port: number, upstreamPort: number, databaseUrl: string, inspectPort: number) => {
  const script = built
    ? target === "service" ? path.join(ROOT, distDir, "main.js") : builtBaseline()
    : target === "service" ? "src/main.ts" : "bench/baseline-relay.ts"
  const flags = [
    ...nodeFlags,
    ...(target === "service" ? serviceFlags : []),
    `--inspect=127.0.0.1:${inspectPort}`,
    ...(profileDir === "" ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`])
  ]
  const command = pin ? "taskset" : process.execPath
  if (built && target === "service" && !fs.existsSync(script)) throw new Error("--built: run `npx tsc -p tsconfig.build.json` first")
  const args = built ? [...flags, script] : [...flags, "--import", "tsx", script]
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
  /** RSS at the end of the measured window, as found (no collection forced). */
  readonly rssMb: number
  /** Medians of the readings (each after a full collection) at 0 calls and with the calls streaming. */
  readonly idle: Usage
  readonly loaded: Usage
  /** V8's used bytes by heap space at the same readings (medians): code space is compiled code, not calls. */
  readonly idleSpaces: Spaces
  readonly loadedSpaces: Spaces
  readonly harnessCpuPercent: number
  readonly harnessLagP99: number
}

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const medianUsage = (usages: ReadonlyArray<Usage>): Usage => ({
  rss: median(usages.map((u) => u.rss)),
  heapTotal: median(usages.map((u) => u.heapTotal)),
  heapUsed: median(usages.map((u) => u.heapUsed)),
  external: median(usages.map((u) => u.external)),
  arrayBuffers: median(usages.map((u) => u.arrayBuffers))
})

type Spaces = Record<string, number>

const SPACES = "JSON.stringify(Object.fromEntries(process.getBuiltinModule('v8').getHeapSpaceStatistics().map((s) => [s.space_name.replace('_space', ''), s.space_used_size])))"

const medianSpaces = (readings: ReadonlyArray<Spaces>): Spaces =>
  Object.fromEntries(Object.keys(readings[0] ?? {}).map((name) => [name, median(readings.map((r) => r[name] ?? 0))]))

/** `samples` readings, each right after a full collection; RSS from /proc (VmRSS), the rest from the process. */
const readMemory = async (inspector: Inspector, pid: number): Promise<{ usage: Usage; spaces: Spaces }> => {
  const readings: Array<Usage> = []
  const spaces: Array<Spaces> = []
  for (let i = 0; i < samples; i++) {
    if (i > 0) await sleep(1_000)
    await inspector.collect()
    const usage = await inspector.usage()
    readings.push({ ...usage, rss: rssMb(pid) * 1048576 })
    const result = await inspector.call("Runtime.evaluate", { expression: SPACES, returnByValue: true })
    spaces.push(JSON.parse(result.result.value) as Spaces)
  }
  if (process.env.BENCH_VERBOSE === "1") console.error(JSON.stringify(readings))
  return { usage: medianUsage(readings), spaces: medianSpaces(spaces) }
}

const runLevel = async (target: "service" | "baseline", calls: number, databaseUrl: string, round: number): Promise<Row> => {
  const upstreamPort = await freePort()
  const load = await new Promise<Load>((resolve) => {
    const created: Load = new Load(upstreamPort, () => resolve(created))
  })
  const port = await freePort()
  const inspectPort = await freePort()
  const { child, output } = await spawnTarget(target, port, upstreamPort, databaseUrl, inspectPort)
  const pid = child.pid!
  if (process.env.BENCH_VERBOSE === "1") console.error(`${target} pid ${pid}`)
  const inspector = await Inspector.open(inspectPort)
  try {
    const url = `ws://127.0.0.1:${port}/media-stream`
    const headers: Record<string, string> = target === "service" ? { authorization: `Bearer ${TENANT_TOKEN}` } : {}
    const connectAll = async (count: number) => {
      const expected = load.upstreamSessions + count
      for (let i = 0; i < count; i += 25) {
        await Promise.all(Array.from({ length: Math.min(25, count - i) }, () => load.connect(url, headers)))
      }
      const deadline = Date.now() + 30_000
      while (load.upstreamSessions < expected && Date.now() < deadline) await sleep(50)
      if (load.upstreamSessions < expected) throw new Error(`only ${load.upstreamSessions}/${expected} upstream sessions\n${output()}`)
    }
    if (warmCalls > 0) {
      await connectAll(warmCalls)
      load.start()
      await sleep(2_000)
      load.stopSending()
      await sleep(500)
      await load.hangUp()
      await sleep(3_000) // the service writes the calls' records after the hang-ups
    }
    const snapshotFile = (at: number) => path.join(snapshotDir, `${target}-${calls}-r${round}-${at}.heapsnapshot`)
    const { usage: idle, spaces: idleSpaces } = await readMemory(inspector, pid)
    if (snapshotDir !== "") await inspector.snapshot(snapshotFile(0))
    await connectAll(calls)

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
    // With the calls still streaming: what N live calls keep, after a collection.
    const { usage: loaded, spaces: loadedSpaces } = await readMemory(inspector, pid)
    if (snapshotDir !== "") await inspector.snapshot(snapshotFile(calls))
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
      idle,
      loaded,
      idleSpaces,
      loadedSpaces,
      harnessCpuPercent: ((harness.user + harness.system) / 1e6 / elapsed) * 100,
      harnessLagP99: lag.percentile(99) / 1e6
    }
    await load.hangUp()
    if (target === "service") await sleep(2_000) // call records are written after the hang-ups
    return row
  } finally {
    inspector.close()
    await stop(child)
    await load.close()
  }
}

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "-")

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
    idle: medianUsage(rows.map((r) => r.idle)),
    loaded: medianUsage(rows.map((r) => r.loaded)),
    idleSpaces: medianSpaces(rows.map((r) => r.idleSpaces)),
    loadedSpaces: medianSpaces(rows.map((r) => r.loadedSpaces)),
    harnessCpuPercent: m((r) => r.harnessCpuPercent),
    harnessLagP99: m((r) => r.harnessLagP99)
  }
}

const HEADER = "| relay | calls | up p50 / p99 ms | down p50 / p99 ms | lost up / down | reordered up / down | CPU % of a core | CPU % per call | RSS MB as found | load gen CPU % / loop lag p99 ms |\n" +
  "|---|---|---|---|---|---|---|---|---|---|"

const format = (row: Row) => {
  const perCallCpu = row.cpuPercent / row.calls
  return `| ${row.target} | ${row.calls} | ${f(row.up[0])} / ${f(row.up[1])} | ${f(row.down[0])} / ${f(row.down[1])} | ` +
    `${row.lost[0]} / ${row.lost[1]} | ${row.reordered[0]} / ${row.reordered[1]} | ${f(row.cpuPercent)} | ${f(perCallCpu, 3)} | ` +
    `${f(row.rssMb, 0)} | ${f(row.harnessCpuPercent)} / ${f(row.harnessLagP99)} |`
}

const MEMORY_HEADER = "| relay | calls | RSS MB 0 -> N calls | RSS KB per call | as found: RSS KB per call | V8 heap used MB 0 -> N | heap used KB per call | external KB per call | of it arrayBuffers KB per call |\n" +
  "|---|---|---|---|---|---|---|---|---|"

/** Per call = (reading with N calls streaming - reading at 0 calls) / N, both after a full collection. */
const formatMemory = (row: Row) => {
  const kb = (bytes: number) => f(bytes / 1024 / row.calls, 1)
  const mb = (bytes: number) => f(bytes / 1048576, 1)
  return `| ${row.target} | ${row.calls} | ${mb(row.idle.rss)} -> ${mb(row.loaded.rss)} | ${kb(row.loaded.rss - row.idle.rss)} | ` +
    `${kb(row.rssMb * 1048576 - row.idle.rss)} | ${mb(row.idle.heapUsed)} -> ${mb(row.loaded.heapUsed)} | ` +
    `${kb(row.loaded.heapUsed - row.idle.heapUsed)} | ${kb(row.loaded.external - row.idle.external)} | ` +
    `${kb(row.loaded.arrayBuffers - row.idle.arrayBuffers)} |`
}

/**
 * Heap used per call by V8 space (same readings): `code` is compiled code, charged to calls though
 * made once; `new` (the young generation) is empty after a full collection, so what it holds at the
 * reading was allocated after it (the calls keep streaming: 0.04-4 KB per call between runs), not
 * kept by the calls. "Outside the young generation" leaves it out.
 */
const formatSpaces = (row: Row) => {
  const perCall = (name: string) => ((row.loadedSpaces[name] ?? 0) - (row.idleSpaces[name] ?? 0)) / 1024 / row.calls
  const names = Object.keys(row.loadedSpaces)
  const outsideYoung = names.filter((name) => name !== "new" && name !== "new_large_object").reduce((sum, name) => sum + perCall(name), 0)
  return `${row.target}, heap used KB per call by space: ${names.map((name) => `${name} ${f(perCall(name), 2)}`).join(", ")}; ` +
    `outside the young generation ${f(outsideYoung, 2)}`
}

/** Live objects added by the calls, per call, by constructor (snapshots at 0 and N calls, same process). */
const printSnapshotDiff = (target: string, calls: number, round: number) => {
  const file = (at: number) => path.join(snapshotDir, `${target}-${calls}-r${round}-${at}.heapsnapshot`)
  const diff = perCallDiff(summarize(file(0)), summarize(file(calls)), calls)
  console.log(`\nheap snapshot ${target}, ${calls} calls, round ${round + 1}: ${f(diff.total / 1024, 1)} KB live per call (of it (code) ${f(diff.code / 1024, 1)}: ${f((diff.total - diff.code) / 1024, 1)} KB without); largest groups:`)
  console.log("| what | objects per call | bytes per call |\n|---|---|---|")
  for (const row of diff.rows) console.log(`| ${row.key.replace(/\|/g, "\\|")} | ${f(row.count, 2)} | ${f(row.bytes, 0)} |`)
}

const main = async () => {
  if (pin) spawnSync("taskset", ["-cp", "0", String(process.pid)])
  const m = machine()
  console.log(`machine: ${m.nproc} cpus, ${m.model}, node ${m.node}, loadavg at start ${m.loadavg}`)
  console.log(`levels ${levels.join(", ")}; ${warmupSeconds} s warm-up + ${seconds} s measured; ${rounds} round(s) per relay, alternating; ` +
    `${built ? "built JavaScript (dist/)" : "under tsx"}${snapshotDir === "" ? "" : "; heap snapshots (RSS after the 0-call snapshot is inflated)"}\n`)
  console.log("each round:\n" + HEADER)
  const results: Array<Row> = []
  const postgres = await startPostgres()
  try {
    for (const calls of levels) {
      const byTarget = new Map<string, Array<Row>>()
      for (let round = 0; round < rounds; round++) {
        for (const target of targets) {
          const row = await runLevel(target, calls, postgres.url, round)
          console.log(format(row))
          console.log(formatMemory(row))
          console.log(formatSpaces(row))
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
  console.log(`\nmemory, medians of ${rounds} round(s) (${warmCalls} warm-up calls first; ${samples} readings each after a full collection):\n${MEMORY_HEADER}`)
  for (const row of results) console.log(formatMemory(row))
  for (const row of results) console.log(formatSpaces(row))
  if (snapshotDir !== "") {
    for (const calls of levels) {
      for (let round = 0; round < rounds; round++) for (const target of targets) printSnapshotDiff(target, calls, round)
    }
  }
  console.log(`\nloadavg at end ${machine().loadavg}`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
