/**
 * What one inbound call's SET-UP costs, counted exactly (independent of machine load): Effect
 * operations and fibers (the service under bench/ops-main.ts's counting supervisor) and SQL
 * statements (`log_statement = 'all'` on a database of its own, read back from the server log),
 * from the webhook sent to the greeting's first audio at the caller. Calls go one at a time as
 * bench/setup.ts places them (signed webhook, media socket to the TwiML's URL, `start` with its
 * parameters, one caller frame); each call is closed and its record written before the next, so
 * the end of a call is not in the window (background loops may be: a few statements, listed).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres PG_LOG=/var/log/postgresql/postgresql-15-main.log \
 *     npx tsx bench/setup-ops.ts [tree ...]
 */
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import pg from "pg"
import type { WebSocket } from "ws"
import { countersSnapshot } from "./proc.js"
import { freshDatabase, greetedCall, sleep, startBenchModel, startSetUpService, stopService } from "./setup-fixture.js"

const CALLS = Number(process.env.SETUP_OPS_CALLS ?? 20)
const WARMUP = 10
const PG_LOG = process.env.PG_LOG ?? "/var/log/postgresql/postgresql-15-main.log"

interface Counts {
  readonly ops: number
  readonly fibers: number
}

const snapshot = (child: ChildProcess) => countersSnapshot<Counts>(child)

/** One call as Twilio makes it, up to the greeting; returns the open socket. */
const setUp = async (base: string, n: number, afterWebhook?: () => Promise<void>) => (await greetedCall(base, n, afterWebhook)).ws

const closed = (ws: WebSocket) => new Promise<void>((resolve) => {
  ws.once("close", () => resolve())
  ws.close()
})

/** Statements the database logged between two markers (the markers' own excluded), one line each. */
const statementsBetween = (log: string, database: string, from: string, to: string) => {
  const start = log.lastIndexOf("\n", log.indexOf(from)) + 1
  const end = log.indexOf("\n", log.indexOf(to, start))
  const header = /^\d{4}-\d\d-\d\d [\d:.]+ UTC \[\d+\] \S+@(\S+) (\w+):\s+(.*)$/
  const entries: Array<{ database: string; kind: string; text: string }> = []
  for (const line of log.slice(start, end).split("\n")) {
    const m = header.exec(line)
    if (m !== null) entries.push({ database: m[1]!, kind: m[2]!, text: m[3]! })
    else if (entries.length > 0) entries[entries.length - 1]!.text += ` ${line}`
  }
  return entries.flatMap((e) => {
    const statement = /^(?:statement|execute [^:]*):\s*(.*)$/s.exec(e.text)
    if (e.database !== database || e.kind !== "LOG" || statement === null || e.text.includes("bench-marker")) return []
    return [statement[1]!.replace(/\s+/g, " ").trim().slice(0, 120)]
  })
}

const measure = async (tree: string, baseUrl: URL) => {
  // SETUP_OPS_DB_PREFIX: the database's name prefix (a shared server may allow only some names).
  const database = `${process.env.SETUP_OPS_DB_PREFIX ?? "ssv_setup_ops"}_${path.basename(tree).replace(/[^a-z0-9]/gi, "_")}_${Date.now()}`
  const { admin, url, drop } = await freshDatabase(baseUrl, database)
  await admin.query(`alter database ${database} set log_statement = 'all'`)
  const marker = new pg.Client({ connectionString: url.toString() })
  await marker.connect()
  const upstream = await startBenchModel()
  let child: ChildProcess | undefined
  try {
    const service = await startSetUpService({
      tree,
      url: url.toString(),
      entry: "bench/ops-main.ts",
      env: upstream.env,
      stdio: ["ignore", "ignore", "pipe"]
    })
    const { base } = service
    child = service.child
    const running = service.child
    let n = Math.floor(Math.random() * 1e6) * 1000
    for (let i = 0; i < WARMUP; i++) await closed(await setUp(base, n++))
    await sleep(2000)
    const ops: Array<number> = []
    const webhookOps: Array<number> = []
    const fibers: Array<number> = []
    const statements = new Map<string, number>()
    let total = 0
    const logStart = fs.statSync(PG_LOG).size
    for (let i = 0; i < CALLS; i++) {
      await marker.query(`select 'bench-marker-start-${database}-${i}'`)
      const before = await snapshot(running)
      let atWebhook: Counts | undefined
      const ws = await setUp(base, n++, async () => {
        atWebhook = await snapshot(running)
      })
      const after = await snapshot(running)
      webhookOps.push(atWebhook!.ops - before.ops)
      await marker.query(`select 'bench-marker-end-${database}-${i}'`)
      ops.push(after.ops - before.ops)
      fibers.push(after.fibers - before.fibers)
      await closed(ws)
      await sleep(2500) // the record is written before the next call's window
    }
    await sleep(500)
    const fd = fs.openSync(PG_LOG, "r")
    const size = fs.fstatSync(fd).size
    const buffer = Buffer.alloc(size - logStart)
    fs.readSync(fd, buffer, 0, buffer.length, logStart)
    fs.closeSync(fd)
    const log = buffer.toString("utf8")
    const perCall: Array<number> = []
    for (let i = 0; i < CALLS; i++) {
      const found = statementsBetween(log, database, `bench-marker-start-${database}-${i}`, `bench-marker-end-${database}-${i}`)
      perCall.push(found.length)
      for (const s of found) {
        total++
        statements.set(s, (statements.get(s) ?? 0) + 1)
      }
    }
    // Background loops (outbox polls, heartbeats) land in some windows: the median is the call's own cost.
    const median = (values: Array<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!
    const mean = (values: Array<number>) => values.reduce((a, b) => a + b, 0) / values.length
    console.log(`\n${tree}: ${CALLS} call set-ups (webhook sent -> greeting heard), one at a time, after ${WARMUP} warm-up calls`)
    console.log(`  Effect operations/call: median ${median(ops)}, min ${Math.min(...ops)}, mean ${mean(ops).toFixed(0)}`)
    console.log(`    of which the webhook (sent -> TwiML): median ${median(webhookOps)}, min ${Math.min(...webhookOps)}`)
    console.log(`  fibers/call: median ${median(fibers)}, mean ${mean(fibers).toFixed(2)}`)
    console.log(`  SQL statements/call: median ${median(perCall)}, min ${Math.min(...perCall)}, mean ${(total / CALLS).toFixed(2)}`)
    for (const [s, count] of [...statements].sort((a, b) => b[1] - a[1])) console.log(`  ${(count / CALLS).toFixed(2)}  ${s}`)
  } finally {
    if (child !== undefined) await stopService(child)
    await upstream.close()
    await marker.end()
    await drop()
  }
}

const main = async () => {
  const baseUrl = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres")
  const trees = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [process.cwd()]
  for (const tree of trees) await measure(path.resolve(tree), baseUrl)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
