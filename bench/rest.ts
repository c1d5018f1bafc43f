/**
 * `npm run bench:rest`: tenant REST endpoints on realistic volume, through the real server
 * process, side by side with a bare node:http + pg process serving the same list queries.
 *
 *   npm run bench:rest                        full: 100,000 rows per table for one tenant, 10,000
 *                                             for three more; 10 s per case (about 8 minutes)
 *   BENCH_SHORT=1 npm run bench:rest          quick check: 20,000 / 2,000 rows, 3 s per case
 *   DATABASE_URL=postgres://... (admin URL; a throwaway database is created), else embedded
 *   BENCH_CPU_PROF=dir                        run the service under node --cpu-prof
 *   BENCH_ONLY=substring[,substring...]       run only the cases whose name contains one of them
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
import { type ChildProcess, fork, spawn } from "node:child_process"
import * as fs from "node:fs"
import pg from "pg"
import { memoryReport } from "./inspect.js"
import { openLoop, type LoadResult } from "./open-loop.js"
import { benchDatabase } from "./postgres.js"
import { freePort, machine, rssMb } from "./proc.js"
import { benchKey } from "./rest-fixture.js"
import { seed } from "./seed.js"

const SHORT = process.env.BENCH_SHORT === "1"
const SECONDS = Number(process.env.BENCH_SECONDS ?? (SHORT ? 3 : 10))
const LARGE = Number(process.env.BENCH_LARGE_ROWS ?? (SHORT ? 20_000 : 100_000))
const SMALL = Number(process.env.BENCH_SMALL_ROWS ?? (SHORT ? 2_000 : 10_000))
const ADMIN_KEY = "bench-admin-key-0123456789abcdefghij"
const ONLY = process.env.BENCH_ONLY?.split(",")
const REUSE = process.env.REST_DB


const json = async (port: number, method: string, path: string, body?: unknown) => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { "x-admin-key": ADMIN_KEY, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return res.json() as Promise<any>
}

const waitReady = async (port: number, path: string) => {
  for (let ready = false; !ready;) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    ready = await fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.status < 500, () => false)
  }
}

/** A database seeded earlier, on the server of DATABASE_URL; kept when the run ends. */
const reused = (name: string) => {
  const url = new URL(process.env.DATABASE_URL!)
  url.pathname = `/${name}`
  return { url: url.toString(), stop: async () => {} }
}

const exited = (child: ChildProcess) => new Promise((resolve) => child.once("exit", resolve))

const main = async () => {
  const startedAt = Date.now()
  const db = REUSE !== undefined ? reused(REUSE) : await benchDatabase(`ssv_bench_${process.pid}`)
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
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: db.url,
      ADMIN_API_KEY: ADMIN_KEY,
      RATE_LIMIT_PER_IP_PER_MINUTE: "100000000",
      RATE_LIMIT_PER_TENANT_PER_MINUTE: "100000000",
      SHUTDOWN_GRACE_SECONDS: "0"
    },
    stdio: logFd !== undefined ? ["ignore", logFd, logFd] : "ignore"
  })
  await waitReady(port, "/health/ready")
  const keys: Record<string, string> = {}
  if (REUSE === undefined) {
    const tenants = [{ tenantId: "bench-large", rows: LARGE }, ...[1, 2, 3].map((i) => ({ tenantId: `bench-small-${i}`, rows: SMALL }))]
    for (const { tenantId } of tenants) {
      await json(port, "PUT", `/api/v1/admin/tenants/${tenantId}`, { tenant_id: tenantId, auth_token: `${tenantId}-legacy-token-0123456789` })
      keys[tenantId] = (await json(port, "POST", `/api/v1/admin/tenants/${tenantId}/api-keys`, {})).created.token as string
    }
    const seedStart = Date.now()
    await seed(db.url, tenants)
    console.error(`seeded in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`)
  } else {
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    keys["bench-large"] = await benchKey(client)
    await client.end()
    // As after seeding: the service has been up a while (the idle reclaim has run).
    await new Promise((resolve) => setTimeout(resolve, 15_000))
  }

  const basePort = await freePort()
  const baseline = fork("bench/rest-baseline.ts", [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, DATABASE_URL: db.url, PORT: String(basePort), TENANT: "bench-large" },
    stdio: "ignore"
  })
  await new Promise((resolve) => baseline.once("message", resolve))

  const auth = { authorization: `Bearer ${keys["bench-large"]}` }
  const pg1 = new pg.Client({ connectionString: db.url })
  await pg1.connect()
  const ids = (await pg1.query("select id from call_logs where tenant_id = 'bench-large' order by random() limit 200")).rows.map((r) => `/api/v1/call-logs/${r.id}`)
  await pg1.end()
  // Common words (in ~20% of transcripts) and selective order numbers (one call each).
  const words = ["refund", "invoice", "warranty", "tracking", "exchange"]
  const orders = [1201, 5003, 9107, 14011, 17989].map((n) => encodeURIComponent(`order ${n * 31 + 2},`))

  // name, target (service or baseline), paths, rates
  const cases: Array<[string, "svc" | "base", ReadonlyArray<string>, ReadonlyArray<number>]> = [
    ["GET /status (API key)", "svc", ["/status"], [500]],
    ["call-logs?limit=50, bare baseline", "base", ["/api/v1/call-logs?limit=50"], [150, 500]],
    ["call-logs?limit=50", "svc", ["/api/v1/call-logs?limit=50"], [150, 500]],
    ["voice-sessions?limit=50, bare baseline", "base", ["/api/v1/voice-sessions?limit=50"], [150, 500]],
    ["voice-sessions?limit=50", "svc", ["/api/v1/voice-sessions?limit=50"], [150, 500]],
    ["call-logs/:id", "svc", ids, [500]],
    ["call-logs?transcript_search=(common word)", "svc", words.map((w) => `/api/v1/call-logs?limit=50&transcript_search=${w}`), [100]],
    ["call-logs?transcript_search=(order number)", "svc", orders.map((w) => `/api/v1/call-logs?limit=50&transcript_search=${w}`), [100]],
    ["voice-sessions?search=(order number)", "svc", orders.map((w) => `/api/v1/voice-sessions?limit=50&search=${w}`), [100]],
    // A dashboard's search is typed by people: 5/s is many agents searching at once, 20/s a burst.
    ["voice-sessions?search=(common word)", "svc", words.map((w) => `/api/v1/voice-sessions?limit=50&search=${w}`), [5, 20]],
    ["call-logs/stats", "svc", ["/api/v1/call-logs/stats"], [100]],
    ["call-logs/latency (24h)", "svc", ["/api/v1/call-logs/latency"], [100]],
    ["voice-outcomes/stats", "svc", ["/api/v1/voice-outcomes/stats"], [100]],
    ["voice-outcomes/timeseries", "svc", ["/api/v1/voice-outcomes/timeseries"], [100]],
    ["voice-session-evals/stats", "svc", ["/api/v1/voice-session-evals/stats"], [100]]
  ]
  const idleRss = rssMb(server.pid!)
  const rows: Array<[string, LoadResult]> = []
  for (const [name, target, paths, rates] of cases) {
    if (ONLY !== undefined && !ONLY.some((only) => name.includes(only))) continue
    for (const rate of rates) {
      const result = await openLoop({
        port: target === "svc" ? port : basePort,
        pid: target === "svc" ? server.pid! : baseline.pid!,
        paths,
        headers: target === "svc" ? auth : {},
        rate,
        seconds: SECONDS
      })
      rows.push([name, result])
      console.error(`${name} @${rate}/s: ${result.achieved}/s p50 ${result.p50.toFixed(1)} p99 ${result.p99.toFixed(1)} ` +
        `CPU ${result.cpuMsPerRequest.toFixed(2)} ms/req; service RSS ${rssMb(server.pid!).toFixed(0)} MB, load ${machine().loadavg}`)
    }
  }
  const settled: Array<string> = []
  for (let second = 1; second <= 30; second++) {
    await new Promise((resolve) => setTimeout(resolve, 1000))
    if (second === 5 || second === 30) settled.push(`${rssMb(server.pid!).toFixed(0)} MB`)
    if (process.env.BENCH_RSS_EVERY_SECOND === "1") console.error(`${second} s after: RSS ${rssMb(server.pid!).toFixed(0)} MB`)
  }

  const m = machine()
  console.log(`machine: ${m.nproc} x ${m.model}, node ${m.node}, load average at end ${m.loadavg}; ` +
    `${SHORT ? "SHORT" : "full"} run: ${LARGE} rows per table for bench-large, ${SMALL} for 3 small tenants; ` +
    `${SECONDS} s per case; PostgreSQL and load generator on the same machine`)
  console.log("| case | offered/s | achieved/s | p50 ms | p99 ms | non-2xx | CPU ms/req | largest body KB |")
  console.log("|---|---|---|---|---|---|---|---|")
  for (const [name, r] of rows) {
    console.log(`| ${name} | ${r.offered} | ${r.achieved} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} | ` +
      `${r.cpuMsPerRequest.toFixed(2)} | ${(r.maxBytes / 1024).toFixed(1)} |`)
  }
  console.log(`\nservice RSS: idle after seeding ${idleRss.toFixed(0)} MB, highest after a case ` +
    `${Math.max(...rows.map(([, r]) => r.rssMb)).toFixed(0)} MB, 5 s / 30 s after the last case ${settled.join(" / ")}`)
  if (inspectPort !== undefined) {
    console.log(`memory: ${await memoryReport(inspectPort, false)}`)
    console.log(`after a full GC: ${await memoryReport(inspectPort, true)}; RSS ${rssMb(server.pid!).toFixed(0)} MB`)
  }
  console.log(`total time ${((Date.now() - startedAt) / 1000).toFixed(0)} s`)

  baseline.kill("SIGTERM")
  server.kill("SIGTERM")
  await Promise.all([exited(baseline), exited(server)])
  await db.stop()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
