/**
 * `npm run bench:rest`: tenant REST endpoints on realistic volume, through the real server
 * process, each case side by side with a bare node:http + pg process sending the same SQL
 * (bench/rest-baseline.ts). Per case and rate: a warm-up of both processes (not counted), then
 * the service and the baseline back to back at the same rate (bench/rest-cases.ts lists them).
 *
 *   npm run bench:rest                        full: 100,000 rows per table for one tenant, 10,000
 *                                             for three more; 10 s per case and process (about 14
 *                                             minutes, 4-5 of them seeding)
 *   BENCH_SHORT=1 npm run bench:rest          quick check that it runs: 10,000 / 1,000 rows, 1 s
 *                                             warm-up, 2 s per case and process (under 4 minutes)
 *   DATABASE_URL=postgres://... (admin URL; a throwaway database is created), else embedded
 *   BENCH_CPU_PROF=dir                        run the service under node --cpu-prof
 *   BENCH_ONLY=substring[,substring...]       run only the cases whose name contains one of them
 *   BENCH_RATES=500[,150...]                  run only these rates of the chosen cases
 *   BENCH_WARMUP=2                            seconds of warm-up per process before each measurement
 *   BENCH_SECONDS=10                          seconds per case and process
 *   BENCH_STATUS_RATE=1000                    GET /status's rate
 *   BENCH_DB=name                             the throwaway database's name (default ssv_bench_<pid>)
 *   REST_DB=ssv_rest_100k                     reuse a database seeded by bench/rest-ab.ts (its one
 *                                             tenant, bench-large, and its stored key) instead of
 *                                             seeding a throwaway one; the service writes to it
 *                                             (search counts), so point it at a copy
 *   BENCH_SERVICE_FLAGS="--trace-gc"          extra node flags for the service
 *   BENCH_SERVICE_LOG=file                    the service's stdout and stderr (e.g. --trace-gc) to a file
 *   BENCH_RSS_EVERY_SECOND=1                  the service's RSS each second of the 30 after the last case
 *   BENCH_TREE=dir                            the service from another worktree (paired runs)
 *   BENCH_INSPECT=1                           after the run, the service's memory breakdown
 *                                             (V8 heap vs native) before and after a full GC
 *   BENCH_SERVICE=dist                        run the built service (`node dist/main.js`, as in
 *                                             production; build first) instead of `tsx src/main.ts`
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import pg from "pg"
import { memoryReport } from "./inspect.js"
import { openLoop } from "./open-loop.js"
import { benchDatabase } from "./postgres.js"
import { freePort, machine, rssMb } from "./proc.js"
import { type BodyCheck, compareBodies, restCases } from "./rest-cases.js"
import { ADMIN_KEY, benchKey, detailPaths, serverBackendCpu, serviceEnv, sessionDetailPaths, startBare, stop, waitReady } from "./rest-fixture.js"
import { type Measured, printRss, printTable } from "./rest-report.js"
import { seed } from "./seed.js"

const SHORT = process.env.BENCH_SHORT === "1"
const SECONDS = Number(process.env.BENCH_SECONDS ?? (SHORT ? 2 : 10))
const WARMUP = Number(process.env.BENCH_WARMUP ?? (SHORT ? 1 : 2))
const LARGE = Number(process.env.BENCH_LARGE_ROWS ?? (SHORT ? 10_000 : 100_000))
const SMALL = Number(process.env.BENCH_SMALL_ROWS ?? (SHORT ? 1_000 : 10_000))
const ONLY = process.env.BENCH_ONLY?.split(",")
const RATES = process.env.BENCH_RATES?.split(",").map(Number)
const REUSE = process.env.REST_DB

const json = async (port: number, method: string, path: string, body?: unknown) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { "x-admin-key": ADMIN_KEY, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return res.json() as Promise<any>
}

/** A database seeded earlier, on the server of DATABASE_URL; kept when the run ends. */
const reused = (name: string) => {
  const url = new URL(process.env.DATABASE_URL!)
  url.pathname = `/${name}`
  return { url: url.toString(), stop: async () => {} }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Until no other statement runs on the database (at most 60 s): a saturated case's queries still
 * running after its requests were dropped would load the next measurement.
 */
const drained = async (monitor: pg.Client, database: string) => {
  for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(100)) {
    const { rows } = await monitor.query(
      "select count(*)::int as n from pg_stat_activity where datname = $1 and state = 'active' and pid <> pg_backend_pid()",
      [database]
    )
    if (rows[0].n === 0) return
  }
}

const main = async () => {
  const startedAt = Date.now()
  const db = REUSE !== undefined ? reused(REUSE) : await benchDatabase(process.env.BENCH_DB ?? `ssv_bench_${process.pid}`)
  const dbName = new URL(db.url).pathname.slice(1)
  const port = await freePort()
  const prof = process.env.BENCH_CPU_PROF
  const inspectPort = process.env.BENCH_INSPECT === "1" ? await freePort() : undefined
  const flags = [
    ...(prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}`] : []),
    ...(inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : []),
    ...(process.env.BENCH_SERVICE_FLAGS?.split(" ").filter((f) => f !== "") ?? [])
  ]
  const log = process.env.BENCH_SERVICE_LOG
  const logFd = log !== undefined ? fs.openSync(log, "w") : undefined
  const entry = process.env.BENCH_SERVICE === "dist" ? ["dist/main.js"] : ["--import", "tsx", "src/main.ts"]
  const server = spawn(process.execPath, [...flags, ...entry], {
    cwd: process.env.BENCH_TREE ?? process.cwd(),
    env: serviceEnv(port, db.url),
    stdio: logFd !== undefined ? ["ignore", logFd, logFd] : "ignore"
  })
  await waitReady(port)
  const monitor = new pg.Client({ connectionString: db.url })
  await monitor.connect()
  let key: string
  if (REUSE === undefined) {
    const tenants = [{ tenantId: "bench-large", rows: LARGE }, ...[1, 2, 3].map((i) => ({ tenantId: `bench-small-${i}`, rows: SMALL }))]
    const keys: Record<string, string> = {}
    for (const { tenantId } of tenants) {
      await json(port, "PUT", `/api/v1/admin/tenants/${tenantId}`, { tenant_id: tenantId, auth_token: `${tenantId}-legacy-token-0123456789` })
      keys[tenantId] = (await json(port, "POST", `/api/v1/admin/tenants/${tenantId}/api-keys`, {})).created.token as string
    }
    const seedStart = Date.now()
    await seed(db.url, tenants)
    console.error(`seeded in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`)
    key = keys["bench-large"]!
  } else {
    key = await benchKey(monitor)
  }
  const bare = await startBare(db.url)
  const service = { port, headers: { authorization: `Bearer ${key}` } }
  const cases = restCases(await detailPaths(monitor, 200, true), await sessionDetailPaths(monitor, 200, true))
    .filter((c) => ONLY === undefined || ONLY.some((only) => c.name.includes(only)))

  // Each case once to both processes: the same JSON? (also the service's first request of each
  // endpoint, before the idle reading and the measured load).
  const checks = new Map<string, BodyCheck>()
  for (const c of cases) checks.set(c.name, await compareBodies(c, service, bare.port))
  // Idle: as after seeding, the service has been quiet a while (its idle reclaim has run).
  await sleep(15_000)
  const idleRss = rssMb(server.pid!)
  let highestRss = idleRss
  const sampler = setInterval(() => (highestRss = Math.max(highestRss, rssMb(server.pid!))), 500)

  const rows: Array<Measured> = []
  const run = async (target: { readonly port: number; readonly pid: number; readonly headers: Record<string, string> }, paths: ReadonlyArray<string>, rate: number) => {
    const pgBefore = await serverBackendCpu(monitor, target.pid, dbName)
    const result = await openLoop({ ...target, paths, rate, seconds: SECONDS })
    const pgMs = ((await serverBackendCpu(monitor, target.pid, dbName) - pgBefore) * 1000) / result.completed
    return { result, pgMs }
  }
  const svcTarget = { port, pid: server.pid!, headers: service.headers }
  const bareTarget = { port: bare.port, pid: bare.child.pid!, headers: {} }
  for (const c of cases) {
    for (const rate of c.rates.filter((r) => RATES === undefined || RATES.includes(r))) {
      // Warm-up (JIT, pools, plans, the search terms' registration), not counted; what a
      // saturated case has not answered 5 s after the last request is dropped. The service's
      // last, so that it goes from its warm-up straight into its measurement: a quiet spell of
      // 2 s lets its idle reclaim (Health/MemoryReclaim.ts) start a full collection, 50-60 ms,
      // that the case's first requests would wait for (p99 56 vs 4.6 ms in RESULTS).
      if (WARMUP > 0) {
        await openLoop({ ...bareTarget, paths: c.paths, rate, seconds: WARMUP, timeoutMs: 5000 })
        await drained(monitor, dbName)
        await openLoop({ ...svcTarget, paths: c.paths, rate, seconds: WARMUP, timeoutMs: 5000 })
      }
      const svc = await run(svcTarget, c.paths, rate)
      await drained(monitor, dbName)
      const base = await run(bareTarget, c.paths, rate)
      await drained(monitor, dbName)
      const load = machine().loadavg
      rows.push({ name: c.name, rate, svc: svc.result, svcPg: svc.pgMs, bare: base.result, barePg: base.pgMs, check: checks.get(c.name)!, load })
      console.error(`${c.name} @${rate}/s: service ${svc.result.achieved}/s p50 ${svc.result.p50.toFixed(1)} p99 ${svc.result.p99.toFixed(1)} ` +
        `CPU ${svc.result.cpuMsPerRequest.toFixed(2)} (pg ${svc.pgMs.toFixed(2)}); bare ${base.result.achieved}/s p50 ${base.result.p50.toFixed(1)} ` +
        `p99 ${base.result.p99.toFixed(1)} CPU ${base.result.cpuMsPerRequest.toFixed(2)} (pg ${base.pgMs.toFixed(2)}); ` +
        `service RSS ${rssMb(server.pid!).toFixed(0)} MB, load ${load}`)
    }
  }
  clearInterval(sampler)
  const settled: Array<number> = []
  for (let second = 1; second <= 30; second++) {
    await sleep(1000)
    if (second === 5 || second === 30) settled.push(rssMb(server.pid!))
    if (process.env.BENCH_RSS_EVERY_SECOND === "1") console.error(`${second} s after: RSS ${rssMb(server.pid!).toFixed(0)} MB`)
  }

  const m = machine()
  console.log(`machine: ${m.nproc} x ${m.model}, node ${m.node}, load average at end ${m.loadavg}; ` +
    `${REUSE !== undefined ? `REST_DB=${REUSE}` : `${SHORT ? "SHORT" : "full"} run: ${LARGE} rows per table for bench-large, ${SMALL} for 3 small tenants`}; ` +
    `${WARMUP} s warm-up and ${SECONDS} s per case and process; PostgreSQL and load generator on the same machine`)
  printTable(rows)
  printRss({ idle: idleRss, highest: highestRss, after5: settled[0]!, after30: settled[1]! })
  if (inspectPort !== undefined) {
    console.log(`memory: ${await memoryReport(inspectPort, false)}`)
    console.log(`after a full GC: ${await memoryReport(inspectPort, true)}; RSS ${rssMb(server.pid!).toFixed(0)} MB`)
  }
  console.log(`total time ${((Date.now() - startedAt) / 1000).toFixed(0)} s`)

  await monitor.end()
  await Promise.all([stop(bare.child), stop(server)])
  await db.stop()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
