/**
 * PostgreSQL time per recorded call of migration 0039's revision (the latency report cache's
 * stamp): `CALLS` call_logs inserts with a latency summary (one statement each, as a record
 * writes its call), as many status callbacks after the record (the billed duration set), in one
 * transaction that is rolled back; alternated with the same work without 0039 inside that
 * transaction (0037's call_log_latency_days_apply put back, 0039's call_logs trigger disabled).
 * On a copy of ssv_rest_100k migrated to 0039.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/ssv_latcache_copy npx tsx bench/latency-revision-cost.ts
 *   CALLS=1000 ROUNDS=4
 */
import * as fs from "node:fs"
import * as os from "node:os"
import pg from "pg"

const CALLS = Number(process.env.CALLS ?? 1000)
const ROUNDS = Number(process.env.ROUNDS ?? 4)
const TENANT = "bench-large"

/** 0037's delta: 0039's without its `revisions` CTE. */
const without0039 = (() => {
  const script = fs.readFileSync(new URL("../migrations/0039_call_log_latency_revisions.sql", import.meta.url), "utf8")
  const start = script.indexOf("create or replace function call_log_latency_days_apply")
  const body = script.slice(start, script.indexOf("end $$;", start) + "end $$;".length)
  return body.replace(/,\n  revisions as \([\s\S]*?returning 1\)\n/, "\n")
})()

const stats = (n: number) => JSON.stringify({
  turns: 1 + (n % 6),
  summary: {
    llm_first_token_ms: { avg: 300 + (n % 200), p50: 280 + (n % 150), p95: 500 + (n % 300), p99: 600 + (n % 400), max: 700 + (n % 500) },
    e2e_first_audio_ms: { avg: 700 + (n % 300), p50: 650 + (n % 250), p95: 900 + (n % 500), p99: 1000 + (n % 600), max: 1200 + (n % 700) }
  }
})

const run = async (client: pg.Client, revision: boolean) => {
  await client.query("begin")
  if (!revision) {
    await client.query(without0039)
    await client.query("alter table call_logs disable trigger call_log_latency_update_sample")
  }
  const ids: Array<string> = []
  const t0 = performance.now()
  for (let n = 0; n < CALLS; n++) {
    const { rows } = await client.query<{ id: string }>(
      `insert into call_logs (id, tenant_id, call_sid, direction, first_seen_at, media_started_at, turn_latency_stats)
       values (gen_random_uuid(), $1, 'CA' || md5(random()::text), 'inbound', now(), now(), $2::jsonb) returning id`,
      [TENANT, stats(n)]
    )
    ids.push(rows[0]!.id)
  }
  const t1 = performance.now()
  for (const id of ids) await client.query("update call_logs set twilio_duration_seconds = 61, twilio_status = 'completed' where id = $1", [id])
  const t2 = performance.now()
  await client.query("rollback")
  return { insert: (t1 - t0) / CALLS, callback: (t2 - t1) / CALLS }
}

const main = async () => {
  if (!without0039.includes("call_log_latency_buckets") || without0039.includes("revisions")) throw new Error("0039's function not found")
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await client.connect()
  for (let round = 1; round <= ROUNDS; round++) {
    for (const revision of [true, false]) {
      const r = await run(client, revision)
      console.log(`round ${round} ${revision ? "with 0039" : "without 0039"}: insert ${r.insert.toFixed(3)} ms/call, status callback after the record ${
        r.callback.toFixed(3)
      } ms/call (client-visible, one connection; load ${os.loadavg().map((l) => l.toFixed(2)).join(" ")})`)
    }
  }
  await client.end()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
