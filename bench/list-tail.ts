/**
 * What sets the p99 of a list page at 500/s, for the service and the bare baseline alike: every
 * request's due / sent / done times (generator in its own process, bench/open-loop-child.ts,
 * latency from the scheduled time), lined up with what each process and the machine were doing:
 * - the measured server's and the generator's collections and event-loop blocks >= LOOP_MARK_MS
 *   (bench/loop-marks.mjs preloaded into both, wall-clock times);
 * - PostgreSQL statements slower than the copy's log_min_duration_statement and checkpoints, from
 *   the server log (set it on the copy first: ALTER DATABASE <copy> SET log_min_duration_statement = 2);
 * - the run queue (/proc/stat procs_running, every 5 ms, minus this sampler) and CPU steal, and
 *   every process's CPU per 500 ms (/proc/PID/stat), so "something else ran" has a name.
 * Each slow request (> TAIL_SLOW_MS, default 10) is charged to what overlapped it.
 *
 *   REST_DB=ssv_x_copy DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     flock /work/tools/bench.lock npx tsx bench/list-tail.ts
 *   TAIL_TREE=dir (the service's built tree, default .: node dist/main.js), TAIL_TARGETS=service,bare,
 *   TAIL_CASES=call-logs,voice-sessions, TAIL_RATE=500, TAIL_SECONDS=10, TAIL_WARMUP=2, TAIL_ROUNDS=2
 *   (rounds alternate the order: service bare, bare service, ...), TAIL_SERVICE_FLAGS="--trace-gc"
 *   and TAIL_SERVICE_LOG=file (the service's node flags and its stdout), TAIL_NICE_GEN=-10 / TAIL_NICE_SERVER=-10
 *   (renice every thread of the generator / of the server and its PostgreSQL backends for the
 *   measurement: what the tail is when other processes on the box get less of the CPU), TAIL_GEN=inproc (the generator in
 *   this process, as bench/rest.ts runs it, for comparison), TAIL_PG_LOG=/var/log/postgresql/postgresql-15-main.log
 */
import { type ChildProcess, execFileSync, fork, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import pg from "pg"
import { type LoadResult, openLoop, percentile, type Timeline } from "./open-loop.js"
import { cpuSeconds, freePort, machine } from "./proc.js"
import { benchKey, localPorts, serverBackendCpu, serviceEnv, stop, TENANT, waitReady } from "./rest-fixture.js"

const TREE = process.env.TAIL_TREE ?? "."
const TARGETS = (process.env.TAIL_TARGETS ?? "service,bare").split(",")
const CASES = (process.env.TAIL_CASES ?? "call-logs,voice-sessions").split(",")
const RATE = Number(process.env.TAIL_RATE ?? 500)
const SECONDS = Number(process.env.TAIL_SECONDS ?? 10)
const WARMUP = Number(process.env.TAIL_WARMUP ?? 2)
const ROUNDS = Number(process.env.TAIL_ROUNDS ?? 2)
const SLOW = Number(process.env.TAIL_SLOW_MS ?? 10)
const INPROC = process.env.TAIL_GEN === "inproc"
const PG_LOG = process.env.TAIL_PG_LOG ?? "/var/log/postgresql/postgresql-15-main.log"
const MARKS = path.resolve("bench/loop-marks.mjs")
const NICE_GEN = process.env.TAIL_NICE_GEN
const NICE_SERVER = process.env.TAIL_NICE_SERVER

/** Every thread of each process given its nice value (Linux applies setpriority per thread). */
const renice = (value: string, pids: ReadonlyArray<number>) => {
  for (const pid of pids) {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) execFileSync("renice", ["-n", value, "-p", tid], { stdio: "ignore" })
  }
}

/** The PostgreSQL backends serving the server `pid` (their client ends are its sockets). */
const backendPids = async (db: pg.Client, pid: number, database: string) => {
  const ports = localPorts(pid)
  const rows = (await db.query("select pid, client_port from pg_stat_activity where datname = $1", [database])).rows as Array<{ pid: number; client_port: number }>
  return rows.filter((r) => ports.has(r.client_port)).map((r) => r.pid)
}
/** Every marked process also reports how much of each block it waited for a CPU. */
const markEnv = { ...process.env, LOOP_MARK_SCHED: "1" }


/** A collection or a loop block; a block's `run` / `wait`: ms the main thread ran / waited for a CPU in it. */
interface Mark { readonly kind: string; readonly start: number; readonly ms: number; readonly run: number; readonly wait: number }

/** LOOPMARK lines from a child's stderr, kept in `marks`. */
const collectMarks = (child: ChildProcess, marks: Array<Mark>) => {
  let rest = ""
  child.stderr!.on("data", (chunk: Buffer) => {
    const lines = (rest + chunk.toString("utf8")).split("\n")
    rest = lines.pop()!
    for (const line of lines) {
      const m = /^LOOPMARK (\w+) (\S+) ([\d.]+) ([\d.]+)(?: ([\d.]+) ([\d.]+))?/.exec(line)
      if (m !== null) {
        const ms = Number(m[4])
        marks.push({ kind: m[1] === "gc" ? `gc-${m[2]}` : "block", start: Number(m[3]), ms, run: Number(m[5] ?? ms), wait: Number(m[6] ?? 0) })
      }
    }
  })
}

interface Target { readonly name: string; readonly port: number; readonly child: ChildProcess; readonly headers: Record<string, string>; readonly marks: Array<Mark> }

const startService = async (url: string, key: string): Promise<Target> => {
  const port = await freePort()
  const flags = process.env.TAIL_SERVICE_FLAGS?.split(" ").filter((f) => f !== "") ?? []
  const log = process.env.TAIL_SERVICE_LOG
  const child = spawn(process.execPath, [...flags, "--import", MARKS, "dist/main.js"], {
    cwd: TREE,
    env: { ...serviceEnv(port, url), LOOP_MARK_SCHED: "1" },
    stdio: ["ignore", log !== undefined ? fs.openSync(log, "w") : "ignore", "pipe"]
  })
  const marks: Array<Mark> = []
  collectMarks(child, marks)
  await waitReady(port)
  return { name: "service", port, child, headers: { authorization: `Bearer ${key}` }, marks }
}

const startBare = async (url: string): Promise<Target> => {
  const port = await freePort()
  const child = fork("bench/rest-baseline.ts", [], {
    execArgv: ["--import", MARKS, "--import", "tsx"],
    env: { ...markEnv, DATABASE_URL: url, PORT: String(port), TENANT },
    stdio: ["ignore", "ignore", "pipe", "ipc"]
  })
  const marks: Array<Mark> = []
  collectMarks(child, marks)
  await new Promise((resolve) => child.once("message", resolve))
  return { name: "bare", port, child, headers: {}, marks }
}

interface Generator { readonly pid: number; readonly marks: Array<Mark>; readonly run: (options: Parameters<typeof openLoop>[0]) => Promise<{ result: LoadResult; cpuMs: number }> }

/**
 * The generator in a process of its own, under loop-marks, started (tsx loaded) before the
 * measured window; `run` sends it the options and waits for the result and its exit.
 */
const generator = async (): Promise<Generator> => {
  if (INPROC) return { pid: process.pid, marks: [], run: async (options) => ({ result: await openLoop({ ...options, record: true }), cpuMs: NaN }) }
  const child = fork("bench/open-loop-child.ts", [], {
    execArgv: ["--import", MARKS, "--import", "tsx"],
    env: markEnv,
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    serialization: "advanced"
  })
  const marks: Array<Mark> = []
  collectMarks(child, marks)
  await new Promise((resolve) => child.once("message", resolve))
  const run = async (options: Parameters<typeof openLoop>[0]) => {
    const done = new Promise<LoadResult>((resolve) => child.once("message", (m) => resolve(m as LoadResult)))
    const cpuBefore = cpuSeconds(child.pid!)
    child.send(options)
    const result = await done
    const cpuMs = (cpuSeconds(child.pid!) - cpuBefore) * 1000
    await new Promise((resolve) => child.exitCode !== null ? resolve(undefined) : child.once("exit", resolve))
    return { result, cpuMs }
  }
  return { pid: child.pid!, marks, run }
}

const generate = async (options: Parameters<typeof openLoop>[0]) => (await generator()).run(options)

/** The machine every 5 ms: runnable tasks (this sampler not counted) and steal ticks. */
interface Sample { readonly t: number; readonly running: number; readonly steal: number; readonly busy: number }
/** Every process's CPU ms in each 500 ms window. */
interface Window { readonly t: number; readonly cpu: Map<string, number> }

const readStat = (): Omit<Sample, "t"> => {
  const text = fs.readFileSync("/proc/stat", "utf8")
  const cpu = text.slice(5, text.indexOf("\n")).trim().split(/\s+/).map(Number)
  const running = Number(/procs_running (\d+)/.exec(text)![1]) - 1
  return { running, steal: cpu[7]!, busy: cpu[0]! + cpu[1]! + cpu[2]! + cpu[5]! + cpu[6]! }
}

const processTicks = () => {
  const ticks = new Map<string, number>()
  for (const pid of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
      const close = stat.lastIndexOf(")")
      const fields = stat.slice(close + 2).split(" ")
      ticks.set(`${pid} ${stat.slice(stat.indexOf("(") + 1, close)}`, Number(fields[11]) + Number(fields[12]))
    } catch {
      // exited meanwhile
    }
  }
  return ticks
}

const sampleMachine = () => {
  const samples: Array<Sample> = []
  const windows: Array<Window> = []
  let last = processTicks()
  const fast = setInterval(() => samples.push({ t: performance.timeOrigin + performance.now(), ...readStat() }), 5)
  const slow = setInterval(() => {
    const now = processTicks()
    const cpu = new Map<string, number>()
    for (const [k, v] of now) {
      const d = v - (last.get(k) ?? v)
      if (d > 0) cpu.set(k, d * 10)
    }
    last = now
    windows.push({ t: performance.timeOrigin + performance.now(), cpu })
  }, 500)
  return { samples, windows, stop: () => (clearInterval(fast), clearInterval(slow)) }
}

/** Slow statements and checkpoints from the PostgreSQL log written since `offset`. */
interface PgEvent { readonly start: number; readonly ms: number; readonly what: string }
const pgEvents = (offset: number, database: string): Array<PgEvent> => {
  const size = fs.statSync(PG_LOG).size
  if (size <= offset) return []
  const fd = fs.openSync(PG_LOG, "r")
  const buffer = Buffer.alloc(size - offset)
  fs.readSync(fd, buffer, 0, buffer.length, offset)
  fs.closeSync(fd)
  const events: Array<PgEvent> = []
  for (const line of buffer.toString("utf8").split("\n")) {
    const m = /^(\S+ \S+) UTC \[\d+\] (.*)$/.exec(line)
    if (m === null) continue
    const end = Date.parse(`${m[1]!.replace(" ", "T")}Z`)
    const duration = /duration: ([\d.]+) ms/.exec(m[2]!)
    if (duration !== null && m[2]!.includes(`@${database} `)) {
      events.push({ start: end - Number(duration[1]), ms: Number(duration[1]), what: "statement" })
    } else if (/checkpoint (starting|complete)|automatic (vacuum|analyze)/.test(m[2]!)) {
      events.push({ start: end, ms: 0, what: m[2]!.slice(0, 60) })
    }
  }
  return events
}

const overlap = (a0: number, a1: number, b0: number, b1: number) => Math.max(0, Math.min(a1, b1) - Math.max(a0, b0))

interface Analysis { readonly line: string; readonly causes: Map<string, number>; readonly episodes: Array<string> }

/**
 * Each slow request charged to the first of: the generator wrote it late (> 2 ms after due), the
 * generator's own collection or block overlapped it, the server's collection, the server's
 * event-loop block, a slow PostgreSQL statement, more runnable tasks than cores, steal; else
 * "nothing seen". Overlap sums (ms) for every kind are reported beside the charge.
 */
const analyse = (
  records: Timeline,
  server: Array<Mark>,
  generator: Array<Mark>,
  statements: Array<PgEvent>,
  samples: Array<Sample>,
  cores: number
): Analysis => {
  const causes = new Map<string, number>()
  const latencies: Array<number> = []
  let slow = 0
  const sums = { late: 0, gen: 0, genWait: 0, gc: 0, block: 0, blockRun: 0, blockWait: 0, pg: 0, queued: 0 }
  let firstSample = 0
  for (let i = 0; i < records.due.length; i++) {
    if (records.status[i] !== 200) continue
    const due = records.due[i]!
    const done = records.done[i]!
    const ms = done - due
    latencies.push(ms)
    if (ms <= SLOW) continue
    slow++
    const late = records.sent[i]! - due
    const genMs = generator.reduce((s, m) => s + overlap(due, done, m.start, m.start + m.ms), 0)
    const gcMs = server.filter((m) => m.kind.startsWith("gc")).reduce((s, m) => s + overlap(due, done, m.start, m.start + m.ms), 0)
    const blocks = server.filter((m) => m.kind === "block" && overlap(due, done, m.start, m.start + m.ms) > 0)
    const blockMs = blocks.reduce((s, m) => s + overlap(due, done, m.start, m.start + m.ms), 0)
    const blockWait = blocks.reduce((s, m) => s + m.wait, 0)
    const blockRun = blocks.reduce((s, m) => s + m.run, 0)
    const genWait = generator.filter((m) => m.kind === "block" && overlap(due, done, m.start, m.start + m.ms) > 0).reduce((s, m) => s + m.wait, 0)
    const pgMs = statements.reduce((s, e) => s + overlap(due, done, e.start, e.start + e.ms), 0)
    while (firstSample < samples.length && samples[firstSample]!.t < due - 4) firstSample++
    let crowded = 0
    let seen = 0
    let steal = 0
    for (let j = firstSample; j < samples.length && samples[j]!.t <= done; j++) {
      seen++
      if (samples[j]!.running > cores) crowded++
      if (j > 0) steal += samples[j]!.steal - samples[j - 1]!.steal
    }
    const queued = crowded * 5
    sums.late += late
    sums.gen += genMs
    sums.gc += gcMs
    sums.block += blockMs
    sums.blockRun += blockRun
    sums.blockWait += blockWait
    sums.genWait += genWait
    sums.pg += pgMs
    sums.queued += queued
    const cause = late > 2 ? "generator late"
      : genMs > 1 ? (genWait > genMs / 2 ? "generator waited for a CPU" : "generator GC/busy")
      : gcMs > 1 ? "server GC"
      : blockMs > 1 ? (blockWait > blockRun ? "server waited for a CPU" : "server busy (own work)")
      : pgMs > 1 ? "PG slow statement"
      : seen > 0 && crowded / seen > 0.25 ? "run queue > cores"
      : steal > 0 ? "steal"
      : "nothing seen"
    causes.set(cause, (causes.get(cause) ?? 0) + 1)
  }
  // Episodes: runs of slow requests (at most 2 fast ones between), the worst listed with what overlapped them.
  const spans: Array<{ first: number; last: number; worst: number }> = []
  for (let i = 0; i < records.due.length; i++) {
    const ms = records.done[i]! - records.due[i]!
    if (!(ms > SLOW)) continue
    const open = spans.at(-1)
    if (open !== undefined && i - open.last <= 3) {
      open.last = i
      open.worst = Math.max(open.worst, ms)
    } else spans.push({ first: i, last: i, worst: ms })
  }
  const within = (marks: Array<Mark>, a: number, b: number) =>
    marks.filter((m) => overlap(a, b, m.start, m.start + m.ms) > 0)
      .map((m) => m.kind === "block" ? `block ${m.ms.toFixed(1)} (w ${m.wait.toFixed(1)})` : `${m.kind} ${m.ms.toFixed(1)}`).join(" ") || "-"
  const episodes = [...spans].sort((a, b) => b.worst - a.worst).slice(0, 8).map((e) => {
    const a = records.due[e.first]!
    const b = Math.max(...Array.from(records.done.subarray(e.first, e.last + 1)).filter((t) => !Number.isNaN(t)))
    const inside = samples.filter((x) => x.t >= a && x.t <= b)
    const crowded = inside.filter((x) => x.running > cores).length
    const meanRunning = inside.reduce((sum, x) => sum + x.running, 0) / (inside.length || 1)
    const lateMax = Math.max(...Array.from({ length: e.last - e.first + 1 }, (_, k) => records.sent[e.first + k]! - records.due[e.first + k]!))
    const pgIn = statements.filter((x) => overlap(a, b, x.start, x.start + x.ms) > 0).map((x) => x.ms.toFixed(1)).join(" ") || "-"
    return `| ${((a - records.due[0]!) / 1000).toFixed(3)} | ${e.last - e.first + 1} | ${e.worst.toFixed(1)} | ${lateMax.toFixed(1)} | ${within(generator, a, b)} | ` +
      `${within(server, a, b)} | ${pgIn} | ${crowded}/${inside.length}, mean ${meanRunning.toFixed(1)} |`
  })
  latencies.sort((a, b) => a - b)
  const n = latencies.length
  const line = `p50 ${percentile(latencies, 0.5).toFixed(1)} p99 ${percentile(latencies, 0.99).toFixed(1)} p99.9 ${percentile(latencies, 0.999).toFixed(1)} ` +
    `max ${latencies[n - 1]?.toFixed(1)} ms; ${slow} of ${n} > ${SLOW} ms; per slow request (ms): sent late ${(sums.late / slow || 0).toFixed(1)}, ` +
    `generator GC/block ${(sums.gen / slow || 0).toFixed(1)} (waiting for a CPU ${(sums.genWait / slow || 0).toFixed(1)}), server GC ${(sums.gc / slow || 0).toFixed(1)}, ` +
    `server blocks ${(sums.block / slow || 0).toFixed(1)} (in them ran ${(sums.blockRun / slow || 0).toFixed(1)}, waited for a CPU ${(sums.blockWait / slow || 0).toFixed(1)}), ` +
    `PG slow ${(sums.pg / slow || 0).toFixed(1)}, run queue > ${cores} ${(sums.queued / slow || 0).toFixed(1)}`
  return { line, causes, episodes }
}

/** Stalls: the server's and the generator's marks inside the run, summed by kind. */
const markSummary = (marks: Array<Mark>, from: number, to: number) => {
  const by = new Map<string, { n: number; ms: number; max: number; wait: number }>()
  for (const m of marks) {
    if (m.start < from || m.start > to) continue
    const s = by.get(m.kind) ?? { n: 0, ms: 0, max: 0, wait: 0 }
    by.set(m.kind, { n: s.n + 1, ms: s.ms + m.ms, max: Math.max(s.max, m.ms), wait: s.wait + m.wait })
  }
  return [...by].map(([k, s]) => `${k} ${s.n} (${s.ms.toFixed(0)} ms${k === "block" ? `, ${s.wait.toFixed(0)} of it waiting for a CPU` : ""}, max ${s.max.toFixed(1)})`).join(", ") || "none"
}

/** CPU ms per process name over the run (this sampler, the generator, the servers, PostgreSQL backends...). */
const cpuByName = (windows: Array<Window>, from: number, to: number, names: Map<number, string>) => {
  const by = new Map<string, number>()
  for (const w of windows) {
    if (w.t < from || w.t > to + 500) continue
    for (const [k, ms] of w.cpu) {
      const pid = Number(k.split(" ")[0])
      const name = names.get(pid) ?? k.slice(k.indexOf(" ") + 1).replace(/^postgres: 15\/main: .*/, "postgres").replace(/^kworker.*/, "kworker")
      by.set(name, (by.get(name) ?? 0) + ms)
    }
  }
  return [...by].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, ms]) => `${k} ${ms.toFixed(0)}`).join(", ")
}

/**
 * The run's requests split by the 500 ms window they were due in: windows where processes other
 * than the bench's own (the server, the generator, PostgreSQL, this orchestrator, the kernel's
 * threads) used under QUIET_OTHER_MS of CPU, and the rest; each side's latency percentiles. A
 * backlog can carry from a busy window into the next quiet one, so the quiet side is an upper bound.
 */
const QUIET_OTHER_MS = Number(process.env.TAIL_QUIET_OTHER_MS ?? 25)
const OURS = /^(postgres|generator|orchestrator\+sampler|service|bare|kdamond.*|kworker|ksoftirqd.*|rcu_.*|process_api|migration.*)$/
const quietSplit = (records: Timeline, windows: Array<Window>, names: Map<number, string>) => {
  const other = windows.map((w) => {
    let ms = 0
    for (const [k, v] of w.cpu) {
      const pid = Number(k.split(" ")[0])
      const name = names.get(pid) ?? k.slice(k.indexOf(" ") + 1).replace(/^postgres: 15\/main: .*/, "postgres")
      if (!OURS.test(name)) ms += v
    }
    return { end: w.t, ms }
  })
  const quiet: Array<number> = []
  const busy: Array<number> = []
  let w = 0
  for (let i = 0; i < records.due.length; i++) {
    if (records.status[i] !== 200) continue
    while (w < other.length && other[w]!.end < records.due[i]!) w++
    if (w >= other.length) break
    ;(other[w]!.ms < QUIET_OTHER_MS ? quiet : busy).push(records.done[i]! - records.due[i]!)
  }
  const line = (xs: Array<number>) => {
    xs.sort((a, b) => a - b)
    return xs.length === 0 ? "none" : `${xs.length} requests, p50 ${percentile(xs, 0.5).toFixed(1)} p99 ${percentile(xs, 0.99).toFixed(1)} p99.9 ${percentile(xs, 0.999).toFixed(1)}`
  }
  const quietWindows = other.filter((o) => o.ms < QUIET_OTHER_MS).length
  return `${quietWindows} of ${other.length} windows quiet (other processes < ${QUIET_OTHER_MS} ms CPU in 500 ms): quiet ${line(quiet)}; busy ${line(busy)}`
}

const main = async () => {
  const url = new URL(process.env.DATABASE_URL!)
  const database = process.env.REST_DB!
  url.pathname = `/${database}`
  const db = new pg.Client({ connectionString: url.toString() })
  await db.connect()
  const key = await benchKey(db)
  const cores = machine().nproc
  const targets: Array<Target> = []
  for (const name of TARGETS) targets.push(name === "bare" ? await startBare(url.toString()) : await startService(url.toString(), key))
  const paths: Record<string, string> = { "call-logs": "/api/v1/call-logs?limit=50", "voice-sessions": "/api/v1/voice-sessions?limit=50" }
  console.log(`${machine().nproc} x ${machine().model}, node ${machine().node}; tree ${TREE}; ${RATE}/s, ${WARMUP} s warm-up + ${SECONDS} s, ` +
    `generator ${INPROC ? "in the orchestrating process" : "in its own process"}` +
    `${NICE_GEN !== undefined ? `, generator at nice ${NICE_GEN}` : ""}${NICE_SERVER !== undefined ? `, server and its PG backends at nice ${NICE_SERVER}` : ""}; load at start ${machine().loadavg}`)
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of CASES) {
      const order = round % 2 === 0 ? targets : [...targets].reverse()
      for (const target of order) {
        const options = { port: target.port, paths: [paths[name]!], headers: target.headers, rate: RATE }
        // Warm-up straight before the measurement: no quiet spell for the idle reclaim to fill.
        await generate({ ...options, seconds: WARMUP, timeoutMs: 5000 })
        const pgOffset = fs.statSync(PG_LOG).size
        const pgBefore = await serverBackendCpu(db, target.child.pid!, database)
        const loadStart = machine().loadavg
        const gen = await generator()
        if (NICE_GEN !== undefined && !INPROC) renice(NICE_GEN, [gen.pid])
        const reniced = NICE_SERVER !== undefined ? [target.child.pid!, ...(await backendPids(db, target.child.pid!, database))] : []
        if (NICE_SERVER !== undefined) renice(NICE_SERVER, reniced)
        const machineSamples = sampleMachine()
        const { result, cpuMs: genCpu } = await gen.run({ ...options, seconds: SECONDS, pid: target.child.pid! })
        machineSamples.stop()
        if (NICE_SERVER !== undefined) renice("0", reniced.filter((p) => fs.existsSync(`/proc/${p}`)))
        const genMarks = gen.marks
        const genPid = gen.pid
        const from = result.records!.due[0]!
        const to = Math.max(...result.records!.done.filter((t) => !Number.isNaN(t)))
        const pgMs = ((await serverBackendCpu(db, target.child.pid!, database) - pgBefore) * 1000) / result.completed
        const statements = pgEvents(pgOffset, database)
        const records = result.records!
        const { line, causes, episodes } = analyse(records, target.marks, genMarks, statements.filter((e) => e.what === "statement"), machineSamples.samples, cores)
        const stealTicks = machineSamples.samples.length > 1 ? machineSamples.samples.at(-1)!.steal - machineSamples.samples[0]!.steal : 0
        const busyTicks = machineSamples.samples.length > 1 ? machineSamples.samples.at(-1)!.busy - machineSamples.samples[0]!.busy : 0
        const crowded = machineSamples.samples.filter((s) => s.running > cores).length / machineSamples.samples.length
        const names = new Map<number, string>([[target.child.pid!, target.name], [process.pid, "orchestrator+sampler"], [genPid, genPid === process.pid ? "orchestrator+sampler+generator" : "generator"]])
        console.log(`\n## round ${round + 1} ${name} ${target.name} (load ${loadStart} -> ${machine().loadavg})`)
        console.log(`  ${result.achieved}/s, errors ${result.errors}; ${line}`)
        console.log(`  CPU ms/req: server ${result.cpuMsPerRequest.toFixed(2)}, its PG backends ${pgMs.toFixed(2)}, generator ${(genCpu / result.completed).toFixed(2)}; ` +
          `generator send lag p99 ${result.sendLagP99.toFixed(2)} ms`)
        console.log(`  by window: ${quietSplit(records, machineSamples.windows, names)}`)
        console.log(`  slow requests by cause: ${[...causes].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(", ") || "none"}`)
        console.log(`  server marks: ${markSummary(target.marks, from, to)}; generator marks: ${markSummary(genMarks, from, to)}`)
        console.log(`  PG: ${statements.filter((e) => e.what === "statement").length} statements over the log threshold` +
          `${statements.filter((e) => e.what !== "statement").map((e) => `; ${e.what}`).join("")}`)
        console.log(`  machine: run queue > ${cores} in ${(crowded * 100).toFixed(1)} % of 5 ms samples; busy ${(busyTicks * 10 / ((to - from) / 1000) / 10).toFixed(0)} % of a core ` +
          `(of ${cores * 100}); steal ${stealTicks * 10} ms; CPU ms by process: ${cpuByName(machineSamples.windows, from, to, names)}`)
        console.log("  | at s | requests | worst ms | sent late max ms | generator marks | server marks | PG statements ms | 5 ms samples with run queue > cores |")
        console.log("  |---|---|---|---|---|---|---|---|")
        for (const e of episodes) console.log(`  ${e}`)
        target.marks.length = 0
      }
    }
  }
  console.log(`\nload at end ${machine().loadavg}`)
  await db.end()
  for (const target of targets) await stop(target.child)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
