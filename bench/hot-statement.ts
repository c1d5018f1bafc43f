/**
 * CPU per statement in one process, `yield* statement` (standard) against
 * src/Database/HotStatement.ts's `execute` (hot), with tracing off as in production without
 * OTEL: the two take turns, one batch of sequential statements each, so the machine's load
 * falls on both alike; each batch's CPU is process.cpuUsage() around it (this process: the
 * service's share, not PostgreSQL's). Cases: `select 1` (the wrapping alone) and the 50-row
 * call-logs page statement (CallLogs/Repo.ts's shape) on bench/rest-ab.ts's seeded database.
 * Also counts Effect operations per statement (a counting supervisor, as bench/ops-main.ts).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/hot-statement.ts
 *   HOT_BATCH=500 HOT_BATCHES=12
 */
import { SqlClient } from "@effect/sql"
import { Effect, Layer, Redacted } from "effect"
import * as os from "node:os"
import { AppConfig } from "../src/Config.js"
import { DatabaseUrl, SqlLive } from "../src/Database/Client.js"
import { makeExecute } from "../src/Database/HotStatement.js"
import { opsOf } from "../test/support/OpCount.js"

const DB = process.env.AB_DB ?? "ssv_rest_ab"
const TENANT = "bench-large"
const BATCH = Number(process.env.HOT_BATCH ?? 500)
const BATCHES = Number(process.env.HOT_BATCHES ?? 12)

const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const summaryJson = `json_build_object('direction', direction, 'duration_seconds', duration_seconds,
  'ended_at', ssv_iso(ended_at), 'escalated', escalated, 'from_number', from_number,
  'function_call_count', function_call_count, 'id', id, 'outcome', outcome, 'started_at', ssv_iso(started_at),
  'status', status, 'stream_sid', stream_sid, 'to_number', to_number, 'transcript_length', transcript_length
)::text as json, ssv_iso(started_at) as started_at, id`


const program = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const execute = yield* makeExecute(sql)
  const cases = {
    "select 1": () => sql`select 1 as one`,
    "call-logs page (51 rows)": () =>
      sql`select ${sql.literal(summaryJson)} from call_logs where ${sql.and([sql`tenant_id = ${TENANT}`])}
        order by call_logs.started_at desc, call_logs.id desc limit ${51} offset ${0}`
  }
  const nothing = (yield* opsOf(Effect.void)).ops
  console.log(`load ${os.loadavg().map((n) => n.toFixed(1)).join(" ")}; batches of ${BATCH} sequential statements, ${BATCHES} per way, taking turns`)
  for (const [name, make] of Object.entries(cases)) {
    const ways = { standard: () => make(), hot: () => execute(make()) }
    for (const [way, run] of Object.entries(ways)) {
      console.log(`${name} ${way}: ${(yield* opsOf(run())).ops - nothing} Effect operations/statement`)
    }
    const perStatement: Record<string, Array<number>> = { standard: [], hot: [] }
    for (let batch = -2; batch < BATCHES; batch++) {
      // Alternate which goes first, so neither always follows the other.
      const order = batch % 2 === 0 ? ["standard", "hot"] as const : ["hot", "standard"] as const
      for (const way of order) {
        const before = process.cpuUsage()
        for (let i = 0; i < BATCH; i++) yield* ways[way]()
        const used = process.cpuUsage(before)
        if (batch >= 0) perStatement[way]!.push((used.user + used.system) / BATCH)
      }
    }
    // Each batch pair ran back to back: their difference is the least disturbed by the load.
    const saved = perStatement.standard!.map((s, i) => s - perStatement.hot![i]!)
    console.log(`${name}: median paired saving ${median(saved).toFixed(1)} us CPU/statement`)
    const standard = median(perStatement.standard!)
    for (const way of ["standard", "hot"] as const) {
      const m = median(perStatement[way]!)
      console.log(`${name} ${way}: median ${m.toFixed(1)} us CPU/statement (batches ${perStatement[way]!.map((v) => v.toFixed(0)).join(" ")}), x${(m / standard).toFixed(2)}`)
    }
  }
  console.log(`load ${os.loadavg().map((n) => n.toFixed(1)).join(" ")}`)
}).pipe(Effect.withTracerEnabled(false))

const url = new URL(process.env.DATABASE_URL!)
url.pathname = `/${DB}`
const Database = SqlLive.pipe(
  Layer.provide(Layer.succeed(DatabaseUrl, Redacted.make(url.toString()))),
  Layer.provide(AppConfig.Default)
)

Effect.runPromise(program.pipe(Effect.provide(Database))).catch((error) => {
  console.error(error)
  process.exit(1)
})
