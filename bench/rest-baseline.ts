/**
 * The floor for list endpoints: bare node:http + pg running the same SQL as the service and
 * writing the rows with JSON.stringify. No auth, no validation: what the work costs at least.
 *   DATABASE_URL=... PORT=... TENANT=... node --import tsx bench/rest-baseline.ts
 */
import * as http from "node:http"
import pg from "pg"

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 })
const tenant = process.env.TENANT ?? "bench-large"

const queries: Record<string, (limit: number) => Promise<unknown>> = {
  "/api/v1/call-logs": async (limit) => {
    const { rows } = await pool.query(
      `select id, stream_sid, direction, status, outcome, started_at, ended_at, duration_seconds, escalated,
         from_number, to_number, function_call_count, transcript_length
       from call_logs where tenant_id = $1 order by started_at desc, id desc limit $2`,
      [tenant, limit + 1]
    )
    return { ok: true, tenant, count: Math.min(rows.length, limit), calls: rows.slice(0, limit), next_cursor: null }
  },
  "/api/v1/voice-sessions": async (limit) => {
    const { rows } = await pool.query(
      `select * from voice_sessions where tenant_id = $1 order by started_at desc, id limit $2`,
      [tenant, limit]
    )
    return { ok: true, tenant, count: rows.length, sessions: rows }
  }
}

http.createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://x")
  const query = queries[url.pathname]
  if (query === undefined) return res.writeHead(404).end()
  query(Number(url.searchParams.get("limit") ?? 50)).then(
    (body) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body)),
    () => res.writeHead(503).end()
  )
}).listen(Number(process.env.PORT), "127.0.0.1", () => process.send?.("ready"))

// A normal exit, so that `--cpu-prof` writes its profile (bench/rest-pair.ts PAIR_PROF).
process.on("SIGTERM", () => process.exit(0))
