/**
 * Do a tenant's call-log writes serialise on its rollup rows (migration 0010, slotted by 0032)?
 * N connections each write call logs of one tenant as the webhook does (`call_log_seen`, a new
 * call SID each time) in transactions held open ~5 ms before their commit (a record transaction's
 * length); reports writes/s, how often a writer was seen waiting on a lock (pg_stat_activity
 * sampled every 5 ms) and deadlocks. With one shared rollup row the writers commit one at a time
 * (at most 1000/5 = 200 writes/s); with a row per connection they overlap. Databases are given
 * by URL, migrated (e.g. one up to 0031, one up to 0032).
 *
 *   npx tsx bench/rollup-contention.ts postgres://.../db_a postgres://.../db_b
 *   WRITERS=8 SECONDS=5 HOLD_MS=5 ROUNDS=2
 */
import * as os from "node:os"
import pg from "pg"
import { sampleLockWaits } from "./postgres.js"

const WRITERS = Number(process.env.WRITERS ?? 8)
const SECONDS = Number(process.env.SECONDS ?? 5)
const HOLD_MS = Number(process.env.HOLD_MS ?? 5)
const ROUNDS = Number(process.env.ROUNDS ?? 2)
const TENANT = "bench-rollup"

// One round trip per transaction (simple protocol, several statements): the client's event loop
// does not lengthen the time the rollup rows are held.
const transaction = `begin;
  select call_log_seen(gen_random_uuid(), '${TENANT}', 'CA' || gen_random_uuid(), 'inbound', '+15550001111',
    '+15550002222', null, 'ringing', now());
  select pg_sleep(${HOLD_MS / 1000});
  commit;`

const deadlocks = async (db: pg.Client) =>
  Number((await db.query("select deadlocks from pg_stat_database where datname = current_database()")).rows[0].deadlocks)

const run = async (url: string) => {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await admin.query(`insert into tenants (tenant_id, config, etag) values ($1, '{}', 'bench') on conflict do nothing`, [TENANT])
  const deadlocksBefore = await deadlocks(admin)
  const writers = await Promise.all(Array.from({ length: WRITERS }, async () => {
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    return c
  }))
  const pids = writers.map((c) => (c as unknown as { processID: number }).processID)
  const slotsShared = WRITERS - new Set(pids.map((pid) => pid % 16)).size
  const end = Date.now() + SECONDS * 1000
  let written = 0
  let errors = 0
  const sampler = sampleLockWaits(admin, pids, end)
  await Promise.all(writers.map(async (c) => {
    while (Date.now() < end) {
      try {
        await c.query(transaction)
        written++
      } catch (error) {
        if (errors++ === 0) console.error(String(error))
        await c.query("rollback").catch(() => undefined)
      }
    }
  }))
  const waitingShare = await sampler
  const deadlockCount = (await deadlocks(admin)) - deadlocksBefore
  await Promise.all(writers.map((c) => c.end()))
  await admin.end()
  return { perSecond: written / SECONDS, errors, deadlocks: deadlockCount, slotsShared, waitingShare }
}

const main = async () => {
  const urls = process.argv.slice(2)
  for (let round = 1; round <= ROUNDS; round++) {
    for (const url of urls) {
      const r = await run(url)
      console.log(`round ${round} ${new URL(url).pathname.slice(1)} writers ${WRITERS} hold ${HOLD_MS} ms: ${r.perSecond.toFixed(0)} writes/s, ` +
        `writers waiting on a lock ${(r.waitingShare * 100).toFixed(0)}% of samples, writers sharing a slot ${r.slotsShared}, ` +
        `deadlocks ${r.deadlocks}, errors ${r.errors}, load ${os.loadavg()[0]!.toFixed(1)}`)
    }
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
