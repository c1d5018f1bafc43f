/**
 * The database side of bench/setup.ts's runs: its transaction rate, the work calls leave behind
 * them, and waiting until that work is done, so one measured burst does not meet another's tail.
 */
import { performance } from "node:perf_hooks"
import pg from "pg"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Committed + rolled-back transactions in the database so far (statistics lag up to 1 s). */
export const transactions = async (url: string) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const res = await client.query("select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()")
    return Number(res.rows[0].n)
  } finally {
    await client.end()
  }
}

/** Transactions per second of the database over `ms` (the service idle: heartbeats, sweeps, listeners). */
export const transactionRate = async (url: string, ms: number) => {
  const before = await transactions(url)
  await sleep(ms)
  // Less the two connections of `transactions` itself.
  return Math.max(0, ((await transactions(url)) - before - 2) * 1000 / ms)
}

/** Work calls leave behind them, in the database. */
export interface Pending {
  readonly live_calls: number
  readonly analysis_jobs: number
  readonly outbox: number
  readonly admissions: number
}
export const describe = (p: Pending) => Object.entries(p).map(([k, v]) => `${k} ${v}`).join(", ")

/**
 * Waits until the warm-up's calls have left nothing behind (every call recorded and out of the
 * ledger, no analysis job or outbox row pending) and the database is back at its idle transaction
 * rate (two quiet seconds in a row; statistics lag up to 1 s), or `maxMs` passed, so the burst
 * measures set-up rather than the warm-up's hang-ups and their post-call work.
 */
export const settle = async (url: string, idleRate: number, maxMs: number) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const pending = async (): Promise<Pending> => (await client.query(`
    select (select count(*) from live_calls)::int as live_calls,
           (select count(*) from call_analysis_jobs where status = 'pending')::int as analysis_jobs,
           (select count(*) from webhook_outbox where status = 'pending')::int as outbox,
           (select count(*) from call_admissions)::int as admissions`)).rows[0]
  const xacts = async () =>
    Number((await client.query("select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()")).rows[0].n)
  const started = performance.now()
  try {
    const first = await pending()
    let last = first
    let quiet = 0
    let before = await xacts()
    while (performance.now() - started < maxMs) {
      await sleep(1000)
      last = await pending()
      const now = await xacts()
      // Less this loop's own three statements a second.
      const rate = now - before - 3
      before = now
      const idle = last.live_calls + last.analysis_jobs + last.outbox === 0 && rate <= idleRate * 1.5 + 3
      quiet = idle ? quiet + 1 : 0
      if (quiet >= 2) return { settled: true, ms: performance.now() - started, first, last }
    }
    return { settled: false, ms: performance.now() - started, first, last }
  } finally {
    await client.end()
  }
}

/**
 * Buffers (8 KB pages, shared hits and reads) one admission's count reads now (`call_counts`,
 * migrations/0020): exact and load-independent; it runs under the tenant's advisory lock. Read on
 * a connection that has called it before, as the service's pooled ones have: a session's first
 * call also loads the function and the catalog rows it needs (about 700 buffers more).
 */
export const admissionCountBuffers = async (url: string) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const count = async () => {
    const res = await client.query(
      "explain (analyze, buffers, format json) select * from call_counts('bench', '-', now() - make_interval(secs => 90))")
    const plan = res.rows[0]["QUERY PLAN"][0].Plan
    return Number(plan["Shared Hit Blocks"]) + Number(plan["Shared Read Blocks"])
  }
  try {
    await count()
    return await count()
  } finally {
    await client.end()
  }
}

/** The service's open connections to the database (its pool: `application_name` stateset-voice). */
export const serviceConnections = async (url: string) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const res = await client.query(
      "select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = 'stateset-voice'")
    return Number(res.rows[0].n)
  } finally {
    await client.end()
  }
}
