/**
 * The floor for every REST case of `bench:rest`: bare node:http + pg sending the service's own
 * statements (bench/rest-bare-sql.ts: named where the service prepares them, unnamed where it does
 * not) and writing the rows as JSON. No framework, no auth, no validation: the tenant is fixed.
 * JSON that PostgreSQL writes is passed through as text, as the service does.
 *   DATABASE_URL=... PORT=... TENANT=... node --import tsx bench/rest-baseline.ts
 */
import * as http from "node:http"
import pg from "pg"
import { isoOfTimestamptz } from "../src/Database/TimestampText.js"
import * as Sql from "./rest-bare-sql.js"

// The service's session settings and int8 as a number (src/Database/Client.ts); connections kept
// open, so that their PostgreSQL backends' CPU can be read across a case (bench/rest.ts).
pg.types.setTypeParser(pg.types.builtins.INT8, Number)
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: 10,
  idleTimeoutMillis: 0,
  options: "-c jit=off -c TimeZone=UTC"
})
const tenant = process.env.TENANT ?? "bench-large"
const tenantJson = JSON.stringify(tenant)

type Row = Record<string, unknown>
/** One statement and how its rows become the body (an object to stringify, or JSON text). */
interface Answer {
  readonly name?: string
  readonly text: string
  readonly values: ReadonlyArray<unknown>
  readonly body: (rows: Array<Row>) => unknown
}

/**
 * A list item from a row: timestamp text (`col::text`) rearranged into ISO, JSON text columns
 * copied as they are; columns in `skip` (the count beside each session row) left out.
 */
const item = (row: Row, times: ReadonlySet<string>, raw: ReadonlySet<string>, skip: ReadonlySet<string> = new Set()) => {
  const parts: Array<string> = []
  for (const key in row) {
    if (skip.has(key)) continue
    const v = row[key]
    const json = v === null ? "null" : raw.has(key) ? v as string : JSON.stringify(times.has(key) ? isoOfTimestamptz(v as string) : v)
    parts.push(`"${key}":${json}`)
  }
  return `{${parts.join(",")}}`
}

const callTimes = new Set(["started_at", "ended_at"])
const sessionTimes = new Set(["created_at", "ended_at", "started_at", "updated_at"])
const sessionRaw = new Set(["function_calls", "metadata", "tags", "transcript", "vad_events"])
const sessionSkip = new Set(["count", "kept"])
/** A call's detail: its timestamp and jsonb columns (CallLogs/DetailJson.ts). */
const detailTimes = new Set(["created_at", "ended_at", "started_at", "updated_at"])
const detailRaw = new Set(["function_calls", "transcript"])

const PAGE = 50
const calls = (rows: Array<Row>) => {
  const page = rows.slice(0, PAGE)
  const last = page[page.length - 1]
  const cursor = rows.length > PAGE && last !== undefined
    ? JSON.stringify(Buffer.from(`${isoOfTimestamptz(last.started_at as string)}|${last.id}`).toString("base64url"))
    : "null"
  return `{"ok":true,"tenant":${tenantJson},"count":${page.length},"next_cursor":${cursor},"calls":[${
    page.map((r) => item(r, callTimes, new Set())).join(",")
  }]}`
}
const sessions = (rows: Array<Row>) =>
  `{"ok":true,"tenant":${tenantJson},"count":${rows[0]?.count ?? 0},"sessions":[${
    rows.map((r) => item(r, sessionTimes, sessionRaw, sessionSkip)).join(",")
  }]}`
const report = (field: string) => (rows: Array<Row>) => `{"ok":true,"tenant":${tenantJson},"${field}":${rows[0]!.stats}}`
const since = (seconds: number) => new Date(Date.now() - seconds * 1000)
const DAY = 86_400
const windows: Record<string, { readonly seconds: number; readonly bucket: "hour" | "day" }> = {
  "24h": { seconds: DAY, bucket: "hour" },
  "7d": { seconds: 7 * DAY, bucket: "day" },
  "30d": { seconds: 30 * DAY, bucket: "day" }
}

const answer = (path: string, q: URLSearchParams): Answer | undefined => {
  const term = q.get("transcript_search") ?? q.get("search")
  switch (path) {
    case "/api/v1/call-logs": {
      if (term === null) return { name: "bare_call_logs", text: Sql.callLogsPage, values: [tenant], body: calls }
      // The service's plans in steady state (CallLogs/Repo.ts): a term with a number narrows to
      // that word through the trigram index; a common word reads the newest 30 x 51 calls.
      const word = /\d{3,}/.exec(term)?.[0]
      return word !== undefined
        ? { text: Sql.transcriptNarrowed, values: [tenant, `%${word}%`, `%${term}%`, tenant, PAGE + 1, 0], body: calls }
        : { text: Sql.transcriptRecent, values: [tenant, 30 * (PAGE + 1), `%${term}%`, PAGE + 1, 0], body: calls }
    }
    case "/api/v1/voice-sessions": {
      if (term === null) return { name: "bare_sessions", text: Sql.sessionsPage, values: [tenant, tenant], body: sessions }
      const p = `%${term}%`
      const values = [tenant, p, tenant, p, 1000, tenant, 1000, PAGE, 0, tenant, p, PAGE, 0, 1000]
      return { text: Sql.sessionSearch, values, body: sessions }
    }
    case "/api/v1/call-logs/stats":
      return { name: "bare_call_stats", text: Sql.callStats, values: [since(DAY), since(DAY), tenant, tenant, tenant], body: report("stats") }
    case "/api/v1/call-logs/latency": {
      const window = q.get("window") ?? "24h"
      const w = windows[window]
      const body = (rows: Array<Row>) => {
        const r = rows[0]!
        return `{"ok":true,"tenant":${tenantJson},"stats":${r.stats},"slowest":${r.slowest},"timeseries":{"bucket":"${
          w?.bucket ?? "day"
        }","window":"${window}","points":${r.points}}}`
      }
      // BARE_LATENCY_ROLLUP=1: 30d and all as the rolled-up statements (migration 0036), else the scan.
      if (process.env.BARE_LATENCY_ROLLUP === "1" && window === "all") {
        return { name: "bare_latency_rollup_all", text: Sql.latencyRollupAll, values: [tenant, tenant, tenant, tenant, tenant, window, 10, tenant], body }
      }
      if (process.env.BARE_LATENCY_ROLLUP === "1" && window === "30d") {
        const at = since(w!.seconds)
        return {
          name: "bare_latency_rollup",
          text: Sql.latencyRollupWindow,
          values: [tenant, at, tenant, at, tenant, at, tenant, tenant, tenant, at, at, window, 10, tenant],
          body
        }
      }
      return w === undefined
        ? { name: "bare_latency_all", text: Sql.latencyAll, values: [tenant, window, 10, "day", tenant], body }
        : { name: "bare_latency", text: Sql.latencyWindow, values: [tenant, since(w.seconds), window, 10, w.bucket, tenant], body }
    }
    case "/api/v1/voice-outcomes/stats":
      return { name: "bare_outcome_stats", text: Sql.outcomeStats, values: [DAY, DAY, tenant, tenant, DAY, DAY, tenant, tenant], body: report("stats") }
    case "/api/v1/voice-outcomes/timeseries":
      return {
        name: "bare_outcome_series",
        text: Sql.outcomeSeries,
        values: [DAY, 3600, 3600, DAY, 3600, 3600, 3600, 3600, tenant, tenant],
        body: (rows) => `{"ok":true,"tenant":${tenantJson},"timeseries":{"bucket":"1h","window":"24h","points":${rows[0]!.points}}}`
      }
    case "/api/v1/voice-session-evals/stats":
      return { name: "bare_eval_stats", text: Sql.evalStats, values: [tenant, tenant, tenant], body: (rows) => rows[0]!.stats }
    default: {
      const call = /^\/api\/v1\/call-logs\/([0-9a-f-]{36})$/.exec(path)?.[1]
      if (call !== undefined) {
        const body = (rows: Array<Row>) => `{"call":${item(rows[0]!, detailTimes, detailRaw)},"ok":true}`
        return { name: "bare_detail", text: Sql.detail, values: [tenant, call], body }
      }
      const session = /^\/api\/v1\/voice-sessions\/([0-9a-f-]{36})$/.exec(path)?.[1]
      if (session === undefined) return undefined
      const body = (rows: Array<Row>) => item(rows[0]!, sessionTimes, sessionRaw)
      return { name: "bare_session_detail", text: Sql.sessionDetail, values: [tenant, session], body }
    }
  }
}

const send = (res: http.ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { "content-type": "application/json" }).end(typeof body === "string" ? body : JSON.stringify(body))

http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x")
  if (url.pathname === "/status") {
    return send(res, 200, { message: "bare", org_id: null, tenant, timestamp: new Date().toISOString(), version: "0.1.0" })
  }
  const a = answer(url.pathname, url.searchParams)
  if (a === undefined) return send(res, 404, {})
  pool.connect().then((client) => {
    // A request whose client left while it queued for a connection is dropped, as the service's
    // interrupted handler drops it: a saturated case must not leave a backlog for the next one.
    if (res.socket?.destroyed !== false) return client.release()
    client.query({ name: a.name, text: a.text, values: a.values as Array<unknown> }).then(
      ({ rows }) => send(res, 200, a.body(rows)),
      () => send(res, 503, {})
    ).finally(() => client.release())
  }, () => send(res, 503, {}))
}).listen(Number(process.env.PORT), "127.0.0.1", () => process.send?.("ready"))

// A normal exit, so that `--cpu-prof` writes its profile (bench/rest-pair.ts PAIR_PROF).
process.on("SIGTERM", () => process.exit(0))
