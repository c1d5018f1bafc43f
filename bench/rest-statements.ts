/**
 * PostgreSQL's CPU per list statement (the backend's own CPU from /proc, PostgreSQL on this
 * machine): the service's call-logs and voice-sessions page statements against the bare
 * baseline's (bench/rest-baseline.ts), each sent unnamed (as both send them: parsed and planned
 * every time) and as a named prepared statement. PostgreSQL shares the two cores with the
 * service here, so this is part of what a page costs the machine. Uses bench/rest-ab.ts's
 * seeded database.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/rest-statements.ts
 *     STATEMENTS_N=500 (executions per measurement) STATEMENTS_ROUNDS=5
 *     STATEMENTS_ONLY=voice-sessions (only the statements whose name contains it)
 *     STATEMENTS_ZONE=UTC (the session's TimeZone: the service's sessions are UTC)
 */
import pg from "pg"
import { summaryJson } from "../src/CallLogs/ListJson.js"
import { sessionJson } from "../src/VoiceSessions/ListJson.js"
import { cpuSeconds } from "./proc.js"
import { seededUrl, TENANT } from "./rest-fixture.js"

/** A select list with its timestamp columns formatted by PostgreSQL (`ssv_iso`), as main sent them before. */
const TIMESTAMPS = new Set(["started_at", "ended_at", "created_at", "updated_at"])
const withIso = (selectList: string) =>
  selectList.split(", ").map((column) => {
    // A list's timestamp is selected as `col::text as col` (src/Http/RowJson.ts).
    const name = column.split(" as ").pop()!
    return TIMESTAMPS.has(name) ? `ssv_iso(${name}) as ${name}` : column
  }).join(", ")

// A prepared page (src/Database/PageBounds.ts) has its limit in the text and no offset.
const callLogs = (list: string, bounds = "limit $2 offset $3") =>
  `select ${list} from call_logs where tenant_id = $1
     order by call_logs.started_at desc, call_logs.id desc ${bounds}`
const sessions = (list: string, { count = true, outerOrder = true, bounds = "limit $3 offset $4" } = {}) =>
  `select ${count ? "(select coalesce(sum(n), 0) from voice_session_counts where tenant_id = $1 and true)::int" : "$1::text"} as count,
       false as kept, ${list}
     from (select * from voice_sessions where tenant_id = $2 order by started_at desc, id ${bounds}) page${
    outerOrder ? " order by page.started_at desc, page.id" : ""
  }`

// The texts as the service's repos compile them for `?limit=50` (CallLogs/Repo.ts: one row more
// than asked; VoiceSessions/Repo.ts: the count from voice_session_counts on every row): "iso" is
// main before the branch named (timestamps through ssv_iso), "raw" the timestamps as they are,
// "branch" as the branch sends them (raw, limit in the text; named: its generic plan is used).
// The voice-sessions variants split the statement's excess over bare: without the count
// sub-select, without the outer order, without either.
const statements: Record<string, readonly [string, ReadonlyArray<unknown>]> = {
  "call-logs iso": [callLogs(withIso(summaryJson.selectList)), [TENANT, 51, 0]],
  "call-logs raw": [callLogs(summaryJson.selectList), [TENANT, 51, 0]],
  "call-logs branch": [callLogs(summaryJson.selectList, "limit 51"), [TENANT]],
  "call-logs bare": [
    `select id, stream_sid, direction, status, outcome, started_at, ended_at, duration_seconds, escalated,
       from_number, to_number, function_call_count, transcript_length
     from call_logs where tenant_id = $1 order by started_at desc, id desc limit $2`,
    [TENANT, 51]
  ],
  "voice-sessions iso": [sessions(withIso(sessionJson.selectList)), [TENANT, TENANT, 50, 0]],
  "voice-sessions iso, no count": [sessions(withIso(sessionJson.selectList), { count: false }), [TENANT, TENANT, 50, 0]],
  "voice-sessions iso, no order": [sessions(withIso(sessionJson.selectList), { outerOrder: false }), [TENANT, TENANT, 50, 0]],
  "voice-sessions raw": [sessions(sessionJson.selectList), [TENANT, TENANT, 50, 0]],
  "voice-sessions raw, no count": [sessions(sessionJson.selectList, { count: false }), [TENANT, TENANT, 50, 0]],
  "voice-sessions branch": [sessions(sessionJson.selectList, { bounds: "limit 50" }), [TENANT, TENANT]],
  "voice-sessions bare": [`select * from voice_sessions where tenant_id = $1 order by started_at desc, id limit $2`, [TENANT, 50]]
}

const main = async () => {
  const n = Number(process.env.STATEMENTS_N ?? 500)
  const rounds = Number(process.env.STATEMENTS_ROUNDS ?? 5)
  const client = new pg.Client({ connectionString: seededUrl().toString() })
  // Rows are not what is measured: no Date or JSON parsing in this process.
  for (const oid of [1184, 1114, 3802, 114]) client.setTypeParser(oid, (v: string) => v)
  await client.connect()
  await client.query(`set time zone '${process.env.STATEMENTS_ZONE ?? "UTC"}'`)
  const only = process.env.STATEMENTS_ONLY
  const backend = (await client.query("select pg_backend_pid() as pid")).rows[0].pid as number
  const results = new Map<string, Array<number>>()
  for (let round = 1; round <= rounds; round++) {
    for (const [name, [text, values]] of Object.entries(statements)) {
      if (only !== undefined && !name.includes(only)) continue
      for (const named of [false, true]) {
        const query = named ? { name: name.replace(/\W/g, "_"), text, values: [...values] } : { text, values: [...values] }
        for (let i = 0; i < 20; i++) await client.query(query)
        const before = cpuSeconds(backend)
        for (let i = 0; i < n; i++) await client.query(query)
        const ms = ((cpuSeconds(backend) - before) * 1000) / n
        const key = `${name}${named ? " (named)" : ""}`
        results.set(key, [...(results.get(key) ?? []), ms])
        console.log(`round ${round} ${key}: ${ms.toFixed(3)} ms/statement`)
      }
    }
  }
  for (const [key, values] of results) {
    const sorted = [...values].sort((a, b) => a - b)
    console.log(`${key.padEnd(32)} median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(3)} ms/statement`)
  }
  await client.end()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
