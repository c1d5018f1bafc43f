/**
 * `npm run bench:setup`: call set-up under bursts. Calls arrive at R per second for a few
 * seconds, each as Twilio makes it: the incoming-call webhook (form-encoded, signed with the
 * tenant's auth token, tenant resolved from AccountSid), then the media WebSocket to the URL
 * in the TwiML with its parameters in `start`, one caller frame, and the greeting back.
 * Side by side with bench/baseline-relay.ts (static TwiML, no signature, tenant, token or
 * record) and, with `--targets=service,floor,baseline`, bench/floor-relay.ts (plain node doing what
 * a call's set-up may not skip: signature, tenant, one admission + record statement, single-use
 * token spent by one statement, the record's end; on a database of its own). The service runs
 * built (`node scripts/start.mjs`: builds dist/ if stale).
 *
 *   npm run bench:setup -- --rates=50,200 --seconds=2 [--warmup=50] [--settle-max=180] [--idle-before=0] [--idle-wait=20] [--profile=DIR] [--targets=service,floor,baseline]
 *     [--node-flags="--trace-gc --cpu-prof-interval=100"] [--service-flags="--max-semi-space-size=32"] [--service-log=FILE] [--marks] [--workers=1,2]
 *
 * `--workers=N[,M...]` (default 1): the service runs with SERVICE_WORKERS=N (a primary and N
 * worker replicas), once for each count listed, each rate; CPU and RSS are the whole process tree's.
 *
 * `--node-flags`: extra flags for the target's node (space-separated); `--service-log=FILE`: the
 * target's stdout and stderr appended to FILE (e.g. `--trace-gc` lines; bench/stalls.ts reads a
 * `--profile` with a short `--cpu-prof-interval` as a timeline of event-loop stalls). `--marks`: the
 * slowest webhooks and starts lined up with the target's collections and loop blocks and the
 * generator's own blocks (bench/setup-marks.ts). `--timeline`: the burst per 100 ms with each upgrade split
 * into connect, the target's accept and its 'upgrade' event (bench/setup-timeline.ts). `--trickle=N@MS`: then N calls MS apart (a quiet
 * replica's calls), their slowest set-up times (and with `--marks` what they met); with `--trickle-during-hangups` they start
 * with the burst's hang-ups instead (new calls among many calls' ends).
 *
 * `--thread-cpu`: the target's main thread's and its other threads' CPU (from /proc, not a profile's wall-clock samples)
 * per second of the burst, per call arriving in that second (bench/setup-thread-cpu.ts): a first burst's first seconds
 * against its last.
 *
 * `--hold-ms=N`: each call hangs up N ms after its greeting (its end among later calls' set-ups, as at a steady
 * rate) instead of all at the burst's end; the CPU "up to the last greeting" then includes those ends.
 *
 * `--warmup=N` (default 50): N calls at 25/s (`--warmup-rate=R`), closed and their records written, before the
 * measured burst, so JIT compilation and lazily loaded modules of the first calls count in
 * neither the latencies nor the CPU per call (both targets; `--warmup=0` to skip). The service's
 * burst then waits until the warm-up's work has settled (calls recorded, analysis jobs and outbox
 * rows done, transaction rate back to idle; at most `--settle-max=S` seconds, default 180) and
 * prints how long that took and what was pending. So does each burst before its service stops, so
 * the next rate starts on a database with no work left from this one.
 *
 * - webhook: POST sent -> TwiML received
 * - upgrade: WebSocket upgrade sent -> 101
 * - start accepted: upgrade sent -> the caller's first frame (sent right after `start`) reaches
 *   the model, i.e. the stream was authenticated, the call set up and the upstream opened
 * - greeting: webhook sent -> first greeting audio frame at the caller (the fake model answers
 *   the service's greeting `response.create` at once, and the bare relay's session.update)
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import { monitorEventLoopDelay, performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import { WebSocket } from "ws"
import { startPostgres } from "./postgres.js"
import { startFakeModel } from "./setup-model.js"
import { backendCpu, backendCpuSince, freePort, listenOverflows, machine, treeCpuSeconds as cpuSeconds, treeRssMb as rssMb } from "./proc.js"
import { admissionCountBuffers, describe, serviceConnections, settle, transactionRate, transactions } from "./setup-settle.js"
import { attributeBurst, generatorBlocks, type Mark, markReader } from "./setup-marks.js"
import { f, pct, placeCall, type Timings } from "./setup-call.js"
import { ADMIN_KEY, benchTenantWithAgent, freshDatabase } from "./setup-fixture.js"
import { connMarkReader, timeline } from "./setup-timeline.js"
import { ACCOUNT } from "./twilio-call.js"
import { traceWrites } from "./setup-strace.js"
import { threadCpu } from "./setup-thread-cpu.js"

const ROOT = fileURLToPath(new URL("..", import.meta.url))
const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const rates = arg("rates", "50,200").split(",").map(Number)
const seconds = Number(arg("seconds", "2"))
const targets = arg("targets", "service,baseline").split(",") as Array<Target>
const profileDir = arg("profile", "")
const warmup = Number(arg("warmup", "50"))
// `--warmup-rate=R` (default 25): the warm-up's arrivals per second; at the burst's rate it is a first burst, so the
// measured one shows whether the early backlog of a burst is a first-time cost (heap growth, JIT) or per burst.
const warmupRate = Number(arg("warmup-rate", "25"))
const settleMaxSeconds = Number(arg("settle-max", "180"))
// `--idle-before=S`: the replica idle S seconds between the settled warm-up and the burst (a burst after a quiet spell).
// `--idle-wait=S` (default 20): "idle RSS" is read S seconds after the target is ready, before any call: a fresh
// process left quiet (the service's idle reclaim has run by then). Before, the column read RSS right before the
// burst, i.e. after the warm-up's calls with their garbage and young generation not yet given back (now "RSS MB before the burst").
const idleBeforeSeconds = Number(arg("idle-before", "0"))
const idleWaitSeconds = Number(arg("idle-wait", "20"))
const nodeFlags = arg("node-flags", "").split(" ").filter((flag) => flag !== "")
// `--service-flags`: extra flags for the service's node only, after the others (e.g. `--max-semi-space-size=64`; the
// bare relay keeps V8's defaults).
const serviceFlags = arg("service-flags", "").split(" ").filter((flag) => flag !== "")
const serviceLog = arg("service-log", "")
const withMarks = process.argv.includes("--marks")
// `--timeline`: the burst per 100 ms (bench/setup-timeline.ts).
const withTimeline = process.argv.includes("--timeline")
// `--strace=FILE`: the target's write-family system calls during the burst (to the last greeting) logged to
// FILE.<target>.<rate> by `strace -f` and counted per call by kind (bench/setup-strace.ts). strace slows the
// target: a run with it is for counts, not for latencies or CPU.
const straceFile = arg("strace", "")
// `--thread-cpu`: the target's main-thread and other threads' CPU per second of the burst (bench/setup-thread-cpu.ts).
const withThreadCpu = process.argv.includes("--thread-cpu")
// `--trickle=N@MS`: after the burst has settled, N calls one at a time MS apart, each hung up at its greeting.
const [trickleCalls, trickleGapMs] = arg("trickle", "0@0").split("@").map(Number) as [number, number]
// `--trickle-during-hangups`: the trickle starts with the burst's hang-ups instead (new calls among the ends of
// the burst's calls: records, closes, analysis jobs); the CPU "from then" then includes the trickle's set-ups.
const trickleDuringHangUps = process.argv.includes("--trickle-during-hangups")
const workerCounts = arg("workers", "1").split(",")
// `--hold-ms=N`: each call hangs up N ms after its greeting, so calls' ends (records, closes, analysis jobs) run
// among later calls' set-ups as at a steady rate; 0 (the default): every call is held until the burst's last greeting.
const holdMs = Number(arg("hold-ms", "0"))
type Target = "service" | "floor" | "baseline"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const startTarget = async (target: Target, port: number, upstreamPort: number, databaseUrl: string, workers: string) => {
  const flags = [...nodeFlags, ...(withMarks ? ["--import=./bench/loop-marks.mjs"] : []), ...(withTimeline ? ["--import=./bench/conn-marks.mjs"] : []), ...(profileDir === "" ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`])]
  const args = target === "service" ? [...flags, ...serviceFlags, "scripts/start.mjs"] : [...flags, "--import", "tsx", `bench/${target}-relay.ts`]
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: databaseUrl,
      ADMIN_API_KEY: ADMIN_KEY,
      OPENAI_API_KEY: "sk-bench",
      OPENAI_BASE_URL: `http://127.0.0.1:${upstreamPort}/v1`,
      UPSTREAM_URL: `ws://127.0.0.1:${upstreamPort}/v1/realtime?model=gpt-realtime`,
      RATE_LIMIT_PER_IP_PER_MINUTE: "100000000",
      RATE_LIMIT_PER_TENANT_PER_MINUTE: "100000000",
      MEDIA_MAX_PENDING_BOOTSTRAP: "5000",
      // Every simulated call comes from 127.0.0.1; Twilio's come from many addresses.
      MEDIA_MAX_PENDING_PER_ADDRESS: "5000",
      MAX_CONCURRENT_REQUESTS_PER_ADDRESS: "5000",
      // The call caps (issue 10) would answer most of a burst with the busy message.
      TENANT_MAX_CONCURRENT_CALLS: "100000",
      MAX_CALLS_PER_REPLICA: "100000",
      SHUTDOWN_GRACE_SECONDS: "0",
      SHUTDOWN_CALL_DRAIN_SECONDS: "0",
      OTEL_EXPORTER_OTLP_ENDPOINT: "",
      SERVICE_WORKERS: workers,
      FLOOR_ACCOUNT_SID: ACCOUNT.sid,
      FLOOR_AUTH_TOKEN: ACCOUNT.token
    },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let tail = ""
  const marks = markReader()
  const connMarks = connMarkReader()
  const log = serviceLog === "" ? undefined : fs.createWriteStream(serviceLog, { flags: "a" })
  const keep = (chunk: Buffer) => {
    log?.write(chunk)
    if (withMarks) marks.read(chunk.toString())
    if (withTimeline) connMarks.read(chunk.toString())
    tail = (tail + chunk.toString()).slice(-4000)
  }
  child.stdout!.on("data", keep)
  child.stderr!.on("data", keep)
  const base = `http://127.0.0.1:${port}`
  const ready = target === "service"
    ? async () => (await fetch(`${base}/health/ready`)).status === 200
    : async () => tail.includes(`${target} relay on`)
  for (let i = 0; !(await ready().catch(() => false)); i++) {
    if (child.exitCode !== null || i > 900) throw new Error(`${target} did not start\n${tail}`)
    await sleep(200)
  }
  // As a real tenant: a default agent with a published version, so each call resolves one.
  if (target === "service") await benchTenantWithAgent(base)
  return { child, base, output: () => tail, marks: marks.marks, conns: connMarks.conns }
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill("SIGTERM")
    setTimeout(() => child.kill("SIGKILL"), 30_000).unref()
  })

/** A quiet replica's calls one at a time (the replica idle between them, no call held): their set-up times. */
const trickle = async (base: string, first: number, accepted: Map<number, () => void>, marks: ReadonlyArray<Mark>) => {
  const from = performance.timeOrigin + performance.now()
  const timings: Array<Timings> = []
  for (let i = 0; i < trickleCalls; i++) {
    await sleep(trickleGapMs)
    const t: Timings = {}
    timings.push(t)
    await placeCall(base, first + i, t, accepted).then((ws) => ws.close(), (error) => (t.failed = String(error)))
  }
  const max = (pick: (t: Timings) => number | undefined) => f(Math.max(...timings.map((t) => pick(t) ?? NaN)))
  return `trickle: ${trickleCalls} calls ${trickleGapMs} ms apart, ${timings.filter((t) => t.failed !== undefined).length} failed; ` +
    `webhook max ${max((t) => t.webhook)} ms, start accepted max ${max((t) => t.accepted)} ms\n` +
    (withMarks ? attributeBurst("trickle", timings, marks.filter((m) => m.start >= from)) : "")
}

const runRate = async (target: Target, rate: number, databaseUrl: string, workers = "1") => {
  const label = target === "service" && workerCounts.join() !== "1" ? `service, ${workers} worker${workers === "1" ? "" : "s"}` : target
  const accepted = new Map<number, () => void>()
  const upstream = await startFakeModel(await freePort(), target === "baseline" ? "session.update" : "response.create", (n) => accepted.get(n)?.())
  const port = await freePort()
  const { child, base, marks, conns } = await startTarget(target, port, upstream.port, databaseUrl, workers)
  await sleep(idleWaitSeconds * 1000)
  const idleRss = rssMb(child.pid!)
  let serial = 0
  const offset = { service: 1, baseline: 1_000_000, floor: 2_000_000 }[target] // distinct call SIDs per run
  const burst = async (count: number, perSecond: number) => {
    const timings: Array<Timings> = Array.from({ length: count }, () => ({}))
    const sockets: Array<WebSocket> = []
    const start = performance.now()
    await Promise.all(timings.map(async (t, i) => {
      await sleep(start + (i * 1000) / perSecond - performance.now())
      try {
        const ws = await placeCall(base, offset + (serial++) + Math.floor(Math.random() * 1e6) * 1000, t, accepted)
        if (holdMs > 0) setTimeout(() => ws.close(), holdMs)
        sockets.push(ws)
      } catch (error) {
        t.failed = String(error)
        t.failedAt = performance.timeOrigin + performance.now()
      }
    }))
    return { timings, sockets }
  }
  // The service's idle transaction rate (heartbeats, sweeps, listeners), measured before any call of this run.
  const idleRate = target === "service" ? await transactionRate(databaseUrl, 2000) : 0
  /** Waits until the calls just hung up have left nothing behind, and says how long that took. */
  const settleAfter = async (what: string) => {
    // What an admission costs right after a busy minute, before the hang-ups are recorded.
    const atHangUp = await admissionCountBuffers(databaseUrl)
    const settled = await settle(databaseUrl, idleRate, settleMaxSeconds * 1000)
    console.error(`${label} ${rate}/s: after ${what}, ${settled.settled ? "settled" : "NOT settled"} in ` +
      `${(settled.ms / 1000).toFixed(1)} s (idle ${idleRate.toFixed(1)} transactions/s); pending when they hung up: ` +
      `${describe(settled.first)}${settled.settled ? "" : `; still pending: ${describe(settled.last)}`}; ` +
      `an admission's call count read ${atHangUp} buffers as they hung up, ${await admissionCountBuffers(databaseUrl)} once settled`)
  }
  if (warmup > 0) {
    const warm = await burst(warmup, warmupRate)
    for (const ws of warm.sockets) ws.close()
    if (target === "service") await settleAfter(`${warmup} warm-up calls`)
    else await sleep(2000)
  }
  await sleep(idleBeforeSeconds * 1000)
  // A connection the burst must open first loads the set-up's functions inside the admission's lock.
  if (target === "service") console.error(`${label} ${rate}/s: ${await serviceConnections(databaseUrl)} pool connections open as the burst starts`)
  const beforeBurstRss = rssMb(child.pid!)
  const xacts0 = await transactions(databaseUrl)
  const withPg = target !== "baseline"
  const pgCpu0 = withPg ? await backendCpu(databaseUrl) : new Map<number, number>()
  const overflows0 = listenOverflows()
  const tracer = straceFile === "" ? undefined : await traceWrites(child.pid!, `${straceFile}.${target}.${rate}`)
  const cpu0 = cpuSeconds(child.pid!)
  const total = Math.round(rate * seconds)
  // The generator's own event loop: a late generator sends starts late and the service counts the waiting streams.
  const generatorDelay = monitorEventLoopDelay({ resolution: 10 })
  generatorDelay.enable()
  const generatorCpu0 = process.cpuUsage()
  const blocks = generatorBlocks()
  const burstFrom = performance.timeOrigin + performance.now()
  const burstFromUs = process.hrtime.bigint() / 1000n
  const threads = withThreadCpu ? threadCpu(child.pid!) : undefined
  const { timings, sockets } = await burst(total, rate)
  if (threads !== undefined) console.error(threads.stop(`${label} ${rate}/s`, rate, seconds))
  if (profileDir !== "") console.error(`${target} ${rate}/s: profile window of the burst: --from-us=${burstFromUs} --to-us=${process.hrtime.bigint() / 1000n}`)
  // Up to the last greeting: the set-ups' share, apart from the hang-ups' and the analyses that follow them.
  const cpuSetUp = cpuSeconds(child.pid!)
  const pgCpuSetUp = withPg ? await backendCpu(databaseUrl) : new Map<number, number>()
  if (tracer !== undefined) console.error(`${label} ${rate}/s: ${await tracer.stop(total)}`)
  blocks.stop()
  if (withMarks) console.error(attributeBurst(`${target} ${rate}/s`, timings, [...marks, ...blocks.marks].filter((m) => m.start >= burstFrom)))
  if (withTimeline) console.error(timeline(`${target} ${rate}/s`, burstFrom, timings, marks.filter((m) => m.start >= burstFrom), conns))
  generatorDelay.disable()
  const generatorCpu = process.cpuUsage(generatorCpu0)
  console.error(`${label} ${rate}/s: generator event-loop delay p50 ${(generatorDelay.percentile(50) / 1e6).toFixed(1)} / p99 ` +
    `${(generatorDelay.percentile(99) / 1e6).toFixed(1)} / max ${(generatorDelay.max / 1e6).toFixed(1)} ms, ` +
    `generator CPU ${((generatorCpu.user + generatorCpu.system) / 1000 / total).toFixed(1)} ms per call`)
  const rss = rssMb(child.pid!)
  // CLOCK_MONOTONIC in µs, as a --cpu-prof profile's timestamps: bench/profile-window.ts --from-us/--to-us.
  const hangUpsAt = process.hrtime.bigint() / 1000n
  for (const ws of sockets) ws.close()
  const trickleFirst = offset + 900 + Math.floor(Math.random() * 1e6) * 1000
  const duringHangUps = trickleCalls > 0 && trickleDuringHangUps ? trickle(base, trickleFirst, accepted, marks) : undefined
  await sleep(3000)
  if (duringHangUps !== undefined) console.error(`${label} ${rate}/s: started with the hang-ups, ${await duringHangUps}`)
  if (profileDir !== "") console.error(`${target} ${rate}/s: profile window of the hang-ups: --from-us=${hangUpsAt} --to-us=${process.hrtime.bigint() / 1000n}`)
  const xacts = (await transactions(databaseUrl)) - xacts0
  const cpuMsPerCall = ((cpuSeconds(child.pid!) - cpu0) * 1000) / total
  // Machine-wide, so only this burst's if nothing else runs: a full accept queue drops SYNs (retried at 1 s, 3 s).
  const overflows = listenOverflows() - overflows0
  // PostgreSQL's share: the baseline has no database.
  const pgCpuMsPerCall = withPg ? (backendCpuSince(pgCpu0, await backendCpu(databaseUrl)) * 1000) / total : 0
  console.error(`${label} ${rate}/s: CPU ms per call ${f(((cpuSetUp - cpu0) * 1000) / total)} up to the last greeting, ` +
    `${f(cpuMsPerCall - ((cpuSetUp - cpu0) * 1000) / total)} from then to 3 s after the hang-ups (records, closes, background work)` +
    (withPg
      ? `; PostgreSQL ${f((backendCpuSince(pgCpu0, pgCpuSetUp) * 1000) / total)} + ${f(pgCpuMsPerCall - (backendCpuSince(pgCpu0, pgCpuSetUp) * 1000) / total)}`
      : ""))
  // The burst's post-call work (records, analysis against the fake model) is done before the service
  // stops: otherwise the next rate's service starts by draining it, and its idle rate is not idle.
  if (target === "service") await settleAfter(`the burst's ${total} calls`)
  // Numbered apart from every burst's (and the previous rate's trickle: the floor refuses a call SID it has ended).
  if (trickleCalls > 0 && !trickleDuringHangUps) console.error(await trickle(base, trickleFirst, accepted, marks))
  await upstream.close()
  const ok = timings.filter((t) => t.failed === undefined)
  const of = (pick: (t: Timings) => number | undefined) => ok.map(pick).filter((v): v is number => v !== undefined)
  const [w, u, a, g] = [of((t) => t.webhook), of((t) => t.upgrade), of((t) => t.accepted), of((t) => t.greeting)]
  const failures = timings.filter((t) => t.failed !== undefined)
  await stop(child)
  if (withPg) console.error(`${label} ${rate}/s: ${(xacts / total).toFixed(1)} database transactions per call (set-up, record, and background)`)
  if (failures.length > 0) console.error(`${label} ${rate}/s: ${failures.length} failed, e.g. ${failures[0]!.failed}`)
  return `| ${label} | ${rate} | ${total} | ${ok.length} | ${f(pct(w, 50))} / ${f(pct(w, 99))} | ${f(pct(u, 50))} / ${f(pct(u, 99))} | ` +
    `${f(pct(a, 50))} / ${f(pct(a, 99))} | ${f(pct(g, 50))} / ${f(pct(g, 99))} | ${f(cpuMsPerCall)} | ${f(pgCpuMsPerCall)} | ${overflows} | ${f(idleRss)} | ${f(beforeBurstRss)} | ${f(rss)} |`
}

const main = async () => {
  const m = machine()
  console.log(`machine: ${m.nproc} cpus, ${m.model}, node ${m.node}, loadavg at start ${m.loadavg}`)
  console.log(`arrivals for ${seconds} s at each rate, after ${warmup} warm-up calls at 25/s\n`)
  console.log(`| relay | arrivals/s | calls | completed | webhook -> TwiML p50 / p99 ms | upgrade -> 101 p50 / p99 ms | upgrade -> start accepted p50 / p99 ms | webhook -> first greeting audio p50 / p99 ms | CPU ms per call (whole call) | PostgreSQL backends' CPU ms per call | ListenOverflows (machine) | idle RSS MB (ready + ${idleWaitSeconds} s, no call yet) | RSS MB before the burst (after the warm-up) | RSS MB after |`)
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
  // `--database-url=...`: an existing server (e.g. to read pg_stat_database around a run).
  const external = arg("database-url", "")
  const postgres = external === "" ? await startPostgres() : { url: external, stop: async () => {} }
  // The floor's own fresh database on the same server, as the service's is.
  const floor = targets.includes("floor") ? await freshDatabase(new URL(postgres.url), `ssv_floor_${process.pid}`) : undefined
  try {
    for (const rate of rates) {
      for (const target of targets) {
        const url = target === "floor" ? floor!.url.toString() : postgres.url
        for (const workers of target === "service" ? workerCounts : ["1"]) console.log(await runRate(target, rate, url, workers))
      }
    }
  } finally {
    await floor?.drop()
    await postgres.stop()
  }
  console.log(`\nloadavg at end ${machine().loadavg}`)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
