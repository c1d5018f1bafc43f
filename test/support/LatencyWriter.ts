/**
 * A replica's call-log writes, as a process of its own (test/latency-rollup.test.ts): `ops`
 * single-statement writes into one tenant's two days: new calls, late calls (started days
 * earlier), calls moved from `from` to `to` (a start rewritten), latencies rewritten after the
 * call, deletes. Values come from a small set, so two writers count the same values. Prints
 * `{"ops":n,"errors":{sqlstate:count}}`.
 *
 *   node --import tsx test/support/LatencyWriter.ts <database url> <tenant> <seed> <ops> <from day> <to day>
 */
import pg from "pg"
import { seededRandom } from "./SeededRandom.js"

const [url, tenant, seed, ops, fromDay, toDay] = process.argv.slice(2) as [string, string, string, string, string, string]
const { int, pick, random } = seededRandom(Number(seed))
const DAY = 86_400_000

const value = () => (random() < 0.1 ? null : pick([120, 180, 250.5, 300, 300.25, 410, 640, 900]))
const summary = () => ({ avg: value(), p50: value(), p95: value(), p99: value(), max: value() })
const stats = () => JSON.stringify({ turns: 1 + int(6), summary: { llm_first_token_ms: summary(), e2e_first_audio_ms: summary() } })
const inDay = (day: string, daysBefore = 0) => new Date(Date.parse(day) - daysBefore * DAY + int(DAY))

const main = async () => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const mine: Array<string> = []
  const errors: Record<string, number> = {}
  for (let i = 0; i < Number(ops); i++) {
    const id = mine.length > 0 ? pick(mine) : null
    const r = random()
    try {
      if (id === null || r < 0.4) {
        const late = random() < 0.25
        const start = inDay(late ? fromDay : pick([fromDay, toDay]), late ? 1 + int(3) : 0)
        const { rows } = await client.query<{ id: string }>(
          `insert into call_logs (id, tenant_id, call_sid, direction, first_seen_at, media_started_at, turn_latency_stats)
           values (gen_random_uuid(), $1, 'CA' || md5(random()::text), 'inbound', $2, $2, $3::jsonb) returning id`,
          [tenant, start, stats()]
        )
        mine.push(rows[0]!.id)
      } else if (r < 0.65) {
        await client.query("update call_logs set media_started_at = $2 where id = $1", [id, inDay(toDay)])
      } else if (r < 0.9) {
        await client.query("update call_logs set turn_latency_stats = $2::jsonb where id = $1", [id, stats()])
      } else {
        await client.query("delete from call_logs where id = $1", [id])
        mine.splice(mine.indexOf(id), 1)
      }
    } catch (error) {
      const code = (error as { code?: string }).code ?? "unknown"
      errors[code] = (errors[code] ?? 0) + 1
    }
  }
  await client.end()
  process.stdout.write(JSON.stringify({ ops: Number(ops), errors }))
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
