import pg from "pg"

/** A `pg` client on `url` for the length of `run`. */
export const withPgClient = async <A>(url: string, run: (client: pg.Client) => Promise<A>) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await run(client)
  } finally {
    await client.end()
  }
}

/** Test databases are named `ssv_test_<created, base 36 seconds>_<random>`: the sweep reads their age from the name. */
const TEST_DATABASE = /^ssv_test_([0-9a-z]{6,})_[0-9a-f]{12}$/

/** No test run lasts this long: a database older than this was left by a run that was killed. */
const STALE_AFTER_SECONDS = 6 * 3600

/** The names of test databases that runs killed before their clean-up left on the server. */
export const staleTestDatabases = (names: ReadonlyArray<string>, nowSeconds: number) =>
  names.filter((name) => {
    const created = TEST_DATABASE.exec(name)?.[1]
    return created !== undefined && nowSeconds - parseInt(created, 36) > STALE_AFTER_SECONDS
  })

/** A new test database's name: its creation second, then `random` (12 hex digits). */
export const testDatabaseName = (nowSeconds: number, random: string) =>
  `ssv_test_${Math.floor(nowSeconds).toString(36)}_${random}`

/**
 * Drops what `staleTestDatabases` finds on the server at `adminUrl`. Best effort: a run that
 * cannot list or drop (no privilege, a database in use) goes on, as it would have before.
 */
export const sweepStaleTestDatabases = async (adminUrl: string) => {
  const client = new pg.Client({ connectionString: adminUrl })
  try {
    await client.connect()
    const { rows } = await client.query<{ datname: string }>("select datname from pg_database where datname like 'ssv_test_%'")
    for (const name of staleTestDatabases(rows.map((row) => row.datname), Date.now() / 1000)) {
      await client.query(`drop database if exists ${name} with (force)`).catch(() => undefined)
    }
  } catch {
    // The run's own databases do not depend on the sweep.
  } finally {
    await client.end().catch(() => undefined)
  }
}
