/**
 * Effect operations and fibers per request, per case, for one or more trees: the service runs
 * under bench/ops-main.ts (a counting supervisor); requests are sent one at a time, so the
 * counts are exact and independent of machine load. Uses bench/rest-ab.ts's seeded database
 * (run that once first).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/rest-ops.ts [tree ...]
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as http from "node:http"
import * as path from "node:path"
import pg from "pg"
import { countersSnapshot, freePort } from "./proc.js"

const DB = process.env.AB_DB ?? "ssv_rest_ab"
const N = Number(process.env.OPS_REQUESTS ?? 200)
const TENANT = "bench-large"


interface Counts {
  readonly ops: number
  readonly fibers: number
  readonly contextSize: number
  readonly byOp: Record<string, number>
}

const snapshot = (child: ChildProcess) => countersSnapshot<Counts>(child)

const main = async () => {
  const url = new URL(process.env.DATABASE_URL!)
  url.pathname = `/${DB}`
  const db = new pg.Client({ connectionString: url.toString() })
  await db.connect()
  const key = (await db.query("select token from bench_ab_key")).rows[0].token as string
  const ids = (await db.query(`select id from call_logs where tenant_id = $1 limit 20`, [TENANT])).rows.map((r) => `/api/v1/call-logs/${r.id}`)
  await db.end()
  const cases: Record<string, ReadonlyArray<string>> = {
    "call-logs?limit=50": ["/api/v1/call-logs?limit=50"],
    "voice-sessions?limit=50": ["/api/v1/voice-sessions?limit=50"],
    "call-logs/:id": ids,
    "/status": ["/status"],
    // For scale: the server and the edge with little behind them.
    "/health/live": ["/health/live"],
    "404": ["/api/v1/no-such-route"]
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const get = (port: number, p: string) =>
    new Promise<number>((resolve, reject) => {
      http.get({ host: "127.0.0.1", port, path: p, agent, headers: { authorization: `Bearer ${key}` } }, (res) => {
        res.resume()
        res.on("end", () => resolve(res.statusCode!))
      }).on("error", reject)
    })
  const trees = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [process.cwd()]
  for (const tree of trees) {
    const port = await freePort()
    const child = spawn(process.execPath, ["--import", "tsx", "bench/ops-main.ts"], {
      cwd: tree,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        DATABASE_URL: url.toString(),
        ADMIN_API_KEY: "bench-admin-key-0123456789abcdefghij",
        RATE_LIMIT_PER_IP_PER_MINUTE: "100000000",
        RATE_LIMIT_PER_TENANT_PER_MINUTE: "100000000",
        SHUTDOWN_GRACE_SECONDS: "0"
      },
      stdio: ["ignore", "ignore", "pipe"]
    })
    for (let ready = false; !ready;) {
      await new Promise((resolve) => setTimeout(resolve, 250))
      ready = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.status < 500, () => false)
    }
    for (const [name, paths] of Object.entries(cases)) {
      for (let i = 0; i < 50; i++) await get(port, paths[i % paths.length]!)
      // Let background fibers (pool, timers) settle into the same state before and after.
      const before = await snapshot(child)
      let statuses = new Set<number>()
      for (let i = 0; i < N; i++) statuses.add(await get(port, paths[i % paths.length]!))
      const after = await snapshot(child)
      const top = Object.entries(after.byOp)
        .map(([op, n]) => [op, (n - (before.byOp[op] ?? 0)) / N] as const)
        .filter(([, n]) => n >= 1)
        .sort((a, b) => b[1] - a[1])
        .map(([op, n]) => `${op} ${n.toFixed(0)}`)
        .join(", ")
      console.log(`${path.basename(tree)} ${name}: ${((after.ops - before.ops) / N).toFixed(0)} ops/req, ` +
        `${((after.fibers - before.fibers) / N).toFixed(2)} fibers/req, context ${after.contextSize}, status ${[...statuses].join("/")} (${top})`)
    }
    child.kill("SIGTERM")
    await new Promise((resolve) => child.once("exit", resolve))
  }
  agent.destroy()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
