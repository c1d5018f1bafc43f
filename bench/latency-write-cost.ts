/**
 * PostgreSQL time per recorded call of migration 0036's rollups: `CALLS` call_logs inserts with a
 * latency summary (one statement each, as a record writes its call), and as many updates that
 * move a call to another day, in one transaction that is rolled back; alternated with the same
 * work with 0036's trigger disabled and its slowest-call index dropped inside that transaction
 * (0034's side table and every other call_logs trigger run in both). On a copy of ssv_rest_100k.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/ssv_latroll_copy npx tsx bench/latency-write-cost.ts
 *   CALLS=1000 ROUNDS=4
 */
import * as os from "node:os"
import pg from "pg"

const CALLS = Number(process.env.CALLS ?? 1000)
const ROUNDS = Number(process.env.ROUNDS ?? 4)
const TENANT = "bench-large"

const stats = (n: number) => JSON.stringify({
  turns: 1 + (n % 6),
  summary: {
    llm_first_token_ms: { avg: 300 + (n % 200), p50: 280 + (n % 150), p95: 500 + (n % 300), p99: 600 + (n % 400), max: 700 + (n % 500) },
    e2e_first_audio_ms: { avg: 700 + (n % 300), p50: 650 + (n % 250), p95: 900 + (n % 500), p99: 1000 + (n % 600), max: 1200 + (n % 700) }
  }
})

const run = async (client: pg.Client, rollups: boolean) => {
  await client.query("begin")
  if (!rollups) {
    await client.query("alter table call_log_latency disable trigger call_log_latency_days_sync")
    await client.query("drop index call_log_latency_slowest_idx")
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
  for (const id of ids) await client.query("update call_logs set media_started_at = now() - interval '1 day' where id = $1", [id])
  const t2 = performance.now()
  await client.query("rollback")
  return { insert: (t1 - t0) / CALLS, move: (t2 - t1) / CALLS }
}

const main = async () => {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await client.connect()
  for (let round = 1; round <= ROUNDS; round++) {
    for (const rollups of [true, false]) {
      const r = await run(client, rollups)
      console.log(`round ${round} ${rollups ? "0036 rollups" : "without 0036"}: insert ${r.insert.toFixed(3)} ms/call, move to another day ${
        r.move.toFixed(3)
      } ms/call (client-visible, one connection; load ${os.loadavg().map((l) => l.toFixed(2)).join(" ")})`)
    }
  }
  await client.end()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
