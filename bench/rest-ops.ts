/**
 * Effect operations and fibers per request, per case, for one or more trees: the service runs
 * under bench/ops-main.ts (a counting supervisor); requests are sent one at a time, so the
 * counts are exact and independent of machine load. Uses bench/rest-ab.ts's seeded database
 * (run that once first).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/rest-ops.ts [tree ...]
 */
import type { ChildProcess } from "node:child_process"
import * as path from "node:path"
import pg from "pg"
import { countersSnapshot } from "./proc.js"
import { benchKey, detailPaths, keepAliveGet, seededUrl, startService, stop } from "./rest-fixture.js"

const N = Number(process.env.OPS_REQUESTS ?? 200)

interface Counts {
  readonly ops: number
  readonly fibers: number
  readonly contextSize: number
  readonly byOp: Record<string, number>
}

const snapshot = (child: ChildProcess) => countersSnapshot<Counts>(child)

const main = async () => {
  const url = seededUrl()
  const db = new pg.Client({ connectionString: url.toString() })
  await db.connect()
  const key = await benchKey(db)
  const ids = await detailPaths(db, 20, false)
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
  const { agent, get } = keepAliveGet(key)
  const trees = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [process.cwd()]
  for (const tree of trees) {
    const { port, child } = await startService(tree, url.toString(), { entry: "bench/ops-main.ts", stdio: ["ignore", "ignore", "pipe"] })
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
    await stop(child)
  }
  agent.destroy()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
