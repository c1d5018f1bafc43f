import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import type pg from "pg"
import { inject } from "vitest"
import { testDatabaseName, withPgClient } from "./StaleDatabases.js"

/** A `pg` client on `url` for the length of `run`: what a test reads or writes behind the service's back. */
export const withClient = <A>(url: string, run: (client: pg.Client) => Promise<A>) =>
  Effect.promise(() => withPgClient(url, run))

/** One statement on `url`; its rows. */
export const query = <A>(url: string, text: string, values: ReadonlyArray<unknown> = []) =>
  withClient(url, async (client) => (await client.query(text, [...values])).rows as Array<A>)

const withAdmin = <A>(run: (client: pg.Client) => Promise<A>) => withClient(inject("postgresAdminUrl"), run)

const urlFor = (database: string) => {
  const url = new URL(inject("postgresAdminUrl"))
  url.pathname = `/${database}`
  return url.toString()
}

const createDatabase = (template: string | undefined) =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const name = testDatabaseName(Date.now() / 1000, randomBytes(6).toString("hex"))
      yield* withAdmin((client) => client.query(`create database ${name}${template === undefined ? "" : ` template ${template}`}`))
      return { name, url: urlFor(name) }
    }),
    ({ name }) => withAdmin((client) => client.query(`drop database if exists ${name} with (force)`))
  ).pipe(Effect.map(({ url }) => url))

/**
 * A database of its own for the calling test file, created on the shared server and
 * dropped (connections and all) when the scope closes. It is a copy of the run's migrated
 * template (globalSetup.ts): every migration is applied, no row is written yet, and the
 * service's start-up migration finds nothing to do.
 */
export const testDatabaseUrl = Effect.suspend(() => createDatabase(inject("postgresTemplate")))

/**
 * Like `testDatabaseUrl`, but empty (no migration applied): for tests of what the service
 * does to a database it has never seen (replicas racing to migrate it).
 */
export const emptyTestDatabaseUrl = Effect.suspend(() => createDatabase(undefined))
