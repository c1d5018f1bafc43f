/**
 * Calls ending while call-logs/latency is polled (bench:rest's latency cases, whose requests
 * alone write nothing): one finished call of bench-large with a latency summary inserted every
 * WRITE_EVERY_MS, started 1-60 minutes ago (in every window), until killed. Each insert moves the
 * tenant's revision (migration 0039), so every cached report of the tenant is computed again by
 * the next request of its key.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/ssv_latcache_copy WRITE_EVERY_MS=1000 npx tsx bench/latency-writes.ts
 */
import pg from "pg"

const EVERY_MS = Number(process.env.WRITE_EVERY_MS ?? 1000)

const main = async () => {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await client.connect()
  for (let n = 0;; n++) {
    const stats = JSON.stringify({
      turns: 1 + (n % 6),
      summary: {
        llm_first_token_ms: { avg: 300 + (n % 200), p50: 280 + (n % 150), p95: 500 + (n % 300), p99: 600 + (n % 400), max: 700 + (n % 500) },
        e2e_first_audio_ms: { avg: 700 + (n % 300), p50: 650 + (n % 250), p95: 900 + (n % 500), p99: 1000 + (n % 600), max: 1200 + (n % 700) }
      }
    })
    await client.query(
      `insert into call_logs (id, tenant_id, call_sid, direction, first_seen_at, media_started_at, media_ended_at, turn_latency_stats)
       values (gen_random_uuid(), 'bench-large', 'CA' || md5(random()::text), 'inbound', now() - $1 * interval '1 minute',
         now() - $1 * interval '1 minute', now(), $2::jsonb)`,
      [1 + (n % 60), stats]
    )
    await new Promise((resolve) => setTimeout(resolve, EVERY_MS))
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
