/**
 * Do a busy tenant's session writers serialise on the search counters (issue 13)? N connections
 * insert finished sessions of one tenant as fast as they can for a few seconds (one autocommit
 * statement each, as the end-of-call record is), with 0 or 32 registered terms the sessions
 * match; reports sessions/s, how often a writer was seen waiting on a lock (pg_stat_activity
 * sampled every 5 ms) and deadlocks (pg_stat_database). Databases are given by URL, migrated.
 *
 *   npx tsx bench/rest-writers.ts postgres://.../db_a postgres://.../db_b
 *   WRITERS=8 SECONDS=5 TERMS=0,32 ROUNDS=2
 */
import * as os from "node:os"
import pg from "pg"
import { sampleLockWaits } from "./postgres.js"

const WRITERS = Number(process.env.WRITERS ?? 8)
const SECONDS = Number(process.env.SECONDS ?? 5)
const TERMS = (process.env.TERMS ?? "0,32").split(",").map(Number)
const ROUNDS = Number(process.env.ROUNDS ?? 2)
const TENANT = "bench-writers"
const WORDS = ["refund", "order", "shipping", "invoice", "delayed", "cancel", "upgrade", "password", "billing", "agent",
  "warranty", "address", "tracking", "damaged", "exchange", "subscription", "discount", "appointment", "callback", "account",
  "customer", "asked", "about", "checked", "confirmed", "details", "the", "for", "and", "an", "or", "er"]

const insert = `insert into voice_sessions (id, tenant_id, stream_id, status, summary, transcript, started_at, ended_at)
  values (gen_random_uuid(), $1, 'MZ' || gen_random_uuid(), 'completed', 'Caller asked about an order',
    jsonb_build_array(jsonb_build_object('role', 'user', 'content', $2::text)), now(), now())`

const registerTerms = async (db: pg.Client, n: number) => {
  // What a registration leaves (SearchCounts.ts): ready terms; their counts start from the rows.
  await db.query(`insert into tenants (tenant_id, config, etag) values ($1, '{}', 'bench') on conflict do nothing`, [TENANT])
  await db.query("delete from voice_session_search_terms where tenant_id = $1", [TENANT])
  await db.query("delete from voice_session_search_counts where tenant_id = $1", [TENANT])
  const hasReady = (await db.query(`select 1 from information_schema.columns
    where table_name = 'voice_session_search_terms' and column_name = 'ready'`)).rowCount === 1
  for (const word of WORDS.slice(0, n)) {
    await db.query(`insert into voice_session_search_terms (tenant_id, pattern${hasReady ? ", ready" : ""})
      values ($1, $2${hasReady ? ", true" : ""})`, [TENANT, `%${word}%`])
  }
}

const run = async (url: string, terms: number) => {
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  await registerTerms(admin, terms)
  const deadlocksBefore = Number((await admin.query("select deadlocks from pg_stat_database where datname = current_database()")).rows[0].deadlocks)
  const writers = await Promise.all(Array.from({ length: WRITERS }, async () => {
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    return c
  }))
  const pids = writers.map((c) => (c as unknown as { processID: number }).processID)
  const end = Date.now() + SECONDS * 1000
  let written = 0
  let errors = 0
  const sampler = sampleLockWaits(admin, pids, end)
  await Promise.all(writers.map(async (c, w) => {
    let i = 0
    while (Date.now() < end) {
      const content = `Customer asked about ${WORDS[(w + i) % 20]} for order ${i}, the agent checked the account and confirmed the details.`
      try {
        await c.query(insert, [TENANT, content])
        written++
      } catch (error) {
        if (errors++ === 0) console.error(String(error))
      }
      i++
    }
  }))
  const waitingShare = await sampler
  const deadlocks = Number((await admin.query("select deadlocks from pg_stat_database where datname = current_database()")).rows[0].deadlocks) - deadlocksBefore
  await Promise.all(writers.map((c) => c.end()))
  await admin.end()
  return { perSecond: written / SECONDS, errors, deadlocks, waitingShare }
}

const main = async () => {
  const urls = process.argv.slice(2)
  for (let round = 1; round <= ROUNDS; round++) {
    for (const terms of TERMS) {
      for (const url of urls) {
        const r = await run(url, terms)
        console.log(`round ${round} ${new URL(url).pathname.slice(1)} terms ${terms} writers ${WRITERS}: ${r.perSecond.toFixed(0)} sessions/s, ` +
          `writers waiting on a lock ${(r.waitingShare * 100).toFixed(0)}% of samples, deadlocks ${r.deadlocks}, errors ${r.errors}, load ${os.loadavg()[0]!.toFixed(1)}`)
      }
    }
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
