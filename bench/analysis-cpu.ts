/**
 * CPU and SQL statements per post-call analysis alone, alternating trees in one session (A/B).
 * Each run: a fresh database; the tree's built service with the analysis worker off takes
 * `--calls` real calls (webhook, media stream, greeting, hang-up: each leaves a call log, a
 * session, an outcome and an analysis job; with `--webhook`, the tenant has a webhook endpoint,
 * so each call's `voice.call.completed` is held for its analysis); then the service restarts with
 * the worker on and the jobs not yet due; once it idles, the jobs are made due (one NOTIFY) and
 * the service's CPU (/proc) from then until every job is done, less its idle CPU over as long,
 * is divided by the jobs. The fake model (bench/setup-model.ts) answers every analysis at once.
 * `--statements=<server log>`: the statements of the drain (log_statement = 'all' on the run's
 * database), per analysis, with the commonest.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/analysis-cpu.ts \
 *     [--calls=200] [--rounds=3] [--webhook=1] [--statements=/var/log/postgresql/postgresql-15-main.log] treeA treeB
 *
 * Both trees need dist/ built (`npm run build`).
 */
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import pg from "pg"
import { backendCpu, backendCpuSince, cpuSeconds, machine } from "./proc.js"
import {
  arg,
  BURST_ENV,
  freshDatabase,
  greetedCall,
  loggedStatements,
  putBenchTenant,
  sleep,
  startBenchModel,
  startSetUpService,
  stopService
} from "./setup-fixture.js"
const calls = Number(arg("calls", "200"))
const rounds = Number(arg("rounds", "3"))
const withWebhook = arg("webhook", "") !== ""
const pgLog = arg("statements", "")
const trees = process.argv.slice(2).filter((a) => !a.startsWith("--")).map((t) => path.resolve(t))

/** A webhook endpoint that takes everything (the delivery worker's CPU is in the figure, as in production). */
const startSink = () =>
  new Promise<http.Server>((resolve) => {
    const server = http.createServer((req, res) => {
      req.resume()
      req.on("end", () => res.writeHead(200).end())
    })
    server.listen(0, "127.0.0.1", () => resolve(server))
  })

const placeCall = async (base: string, n: number) => (await greetedCall(base, n)).ws.close()

const count = async (db: pg.Client, where: string) =>
  (await db.query(`select count(*)::int as n from call_analysis_jobs where ${where}`)).rows[0].n as number

const run = async (tree: string, baseUrl: URL, sinkUrl: string) => {
  const database = `ssv_analysis_cpu_${Date.now()}`
  const { admin, url, drop } = await freshDatabase(baseUrl, database)
  const upstream = await startBenchModel()
  const env = {
    ...upstream.env,
    ...BURST_ENV,
    ALLOW_PRIVATE_OUTBOUND_URLS: "true",
    ANALYSIS_MAX_WAIT_SECONDS: "600"
  }
  const db = new pg.Client({ connectionString: url.toString() })
  try {
    // 1. The calls, with nobody analysing them.
    const first = await startSetUpService({ tree, url: url.toString(), args: ["dist/main.js"], env: { ...env, ANALYSIS_WORKER_ENABLED: "false" } })
    try {
      if (withWebhook) await putBenchTenant(first.base, { webhook_url: sinkUrl })
      let n = Math.floor(Math.random() * 1e6) * 1000
      for (let i = 0; i < calls; i += 10) {
        await Promise.all(Array.from({ length: Math.min(10, calls - i) }, () => placeCall(first.base, n++)))
      }
      await db.connect()
      for (let i = 0; i < 120 && (await count(db, "true")) < calls; i++) await sleep(250)
    } finally {
      await stopService(first.child)
    }
    const jobs = await count(db, "status = 'pending'")
    // 2. The worker on, the jobs held back until the service idles.
    await db.query("update call_analysis_jobs set next_attempt_at = now() + interval '1 day'")
    // The fixture sets the tenant up again on start: its agent under another key (the calls' versions stay).
    await db.query("update agents set agent_key = agent_key || '-calls'")
    if (pgLog !== "") await admin.query(`alter database ${database} set log_statement = 'all'`)
    const { base: base2, child } = await startSetUpService({ tree, url: url.toString(), args: ["dist/main.js"], env: { ...env, ANALYSIS_WORKER_ENABLED: "true" } })
    try {
      if (withWebhook) await putBenchTenant(base2, { webhook_url: sinkUrl })
      await sleep(3000)
      const idle0 = cpuSeconds(child.pid!)
      const pgIdle0 = await backendCpu(url.toString())
      const idleStart = performance.now()
      await sleep(2000)
      const idlePerMs = (cpuSeconds(child.pid!) - idle0) / (performance.now() - idleStart)
      const pgIdlePerMs = backendCpuSince(pgIdle0, await backendCpu(url.toString())) / (performance.now() - idleStart)
      // The drain's PostgreSQL CPU: every backend of the run's database (the bench's own polling included).
      const pgCpu0 = await backendCpu(url.toString())
      const log0 = pgLog === "" ? 0 : fs.statSync(pgLog).size
      const cpu0 = cpuSeconds(child.pid!)
      const start = performance.now()
      await db.query("update call_analysis_jobs set next_attempt_at = now()")
      await db.query("select pg_notify('call_analysis', 'job')")
      while ((await count(db, "status = 'pending'")) > 0 && performance.now() - start < 120_000) await sleep(50)
      // The events the analyses released go out before the CPU is read (with --webhook).
      if (withWebhook) {
        for (let i = 0; i < 200; i++) {
          const { rows } = await db.query("select count(*)::int as n from webhook_outbox where status = 'pending' and next_attempt_at <= now()")
          if (rows[0].n === 0) break
          await sleep(50)
        }
      }
      const wall = performance.now() - start
      const cpuMs = ((cpuSeconds(child.pid!) - cpu0) - idlePerMs * wall) * 1000
      const pgCpuMs = (backendCpuSince(pgCpu0, await backendCpu(url.toString())) - pgIdlePerMs * wall) * 1000
      const done = await count(db, "status = 'done'")
      let statements = "-"
      if (pgLog !== "") {
        // The service's own statements (the bench's polling above is left out).
        const { total, kinds } = loggedStatements(pgLog, log0, database, (l) => !l.includes("count(*)::int as n from"))
        statements = (total / jobs).toFixed(2)
        console.error(`${path.basename(tree)}: statements in the drain, per analysis`)
        for (const [k, v] of kinds.slice(0, 25)) console.error(`  ${(v / jobs).toFixed(2)}  ${k}`)
      }
      return `| ${path.basename(tree)} | ${done}/${jobs} | ${(cpuMs / jobs).toFixed(2)} | ${(pgCpuMs / jobs).toFixed(2)} | ${(wall / jobs).toFixed(1)} | ${statements} | ${machine().loadavg} |`
    } finally {
      await stopService(child)
    }
  } finally {
    await db.end().catch(() => {})
    await upstream.close()
    await drop()
  }
}

const main = async () => {
  const baseUrl = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres")
  const sink = await startSink()
  const sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hook`
  console.log(`${calls} analyses per run${withWebhook ? " (tenant with a webhook endpoint)" : ""}; ${rounds} rounds alternating ${trees.map((t) => path.basename(t)).join(" / ")}`)
  console.log("| tree | done | CPU ms/analysis | PG CPU ms/analysis | wall ms/analysis | SQL statements/analysis | loadavg after |")
  console.log("|---|---|---|---|---|---|---|")
  for (let r = 0; r < rounds; r++) {
    for (const tree of r % 2 === 0 ? trees : [...trees].reverse()) console.log(await run(tree, baseUrl, sinkUrl))
  }
  sink.close()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
