import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import pg from "pg"
import { inject } from "vitest"
import { testDatabaseName } from "./StaleDatabases.js"

/** A `pg` client on `url` for the length of `run`: what a test reads or writes behind the service's back. */
export const withClient = <A>(url: string, run: (client: pg.Client) => Promise<A>) =>
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      return await run(client)
    } finally {
      await client.end()
    }
  })

/** One statement on `url`; its rows. */
export const query = <A>(url: string, text: string, values: ReadonlyArray<unknown> = []) =>
  withClient(url, async (client) => (await client.query(text, [...values])).rows as Array<A>)

const withAdmin = <A>(run: (client: pg.Client) => Promise<A>) => withClient(inject("postgresAdminUrl"), run)

const urlFor = (database: string) => {
  const url = new URL(inject("postgresAdminUrl"))
  url.pathname = `/${database}`
  return url.toString()
}

/**
 * A database of its own for the calling test file, created on the shared server and
 * dropped (connections and all) when the scope closes.
 */
export const testDatabaseUrl = Effect.acquireRelease(
  Effect.gen(function*() {
    const name = testDatabaseName(Date.now() / 1000, randomBytes(6).toString("hex"))
    yield* withAdmin((client) => client.query(`create database ${name}`))
    return { name, url: urlFor(name) }
  }),
  ({ name }) => withAdmin((client) => client.query(`drop database if exists ${name} with (force)`))
).pipe(Effect.map(({ url }) => url))
