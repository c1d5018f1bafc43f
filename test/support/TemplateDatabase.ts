import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { Migrations } from "../../src/Database/Migrations.js"
import { testDatabaseName, withPgClient as admin } from "./StaleDatabases.js"

export const databaseUrl = (adminUrl: string, database: string) => {
  const url = new URL(adminUrl)
  url.pathname = `/${database}`
  return url.toString()
}

/**
 * One database per test run, migrated once by the service's own `Migrations` (the same
 * code, lock and table the service uses at start-up). Test files copy it with
 * `CREATE DATABASE ... TEMPLATE` instead of each migrating an empty database: the copy is a
 * file copy, the 24 migrations are seconds of DDL per database. Named like every test database,
 * so a run killed before its teardown leaves nothing the stale sweep does not drop.
 * Returns its name and a function that drops it.
 */
export const createMigratedTemplate = async (adminUrl: string) => {
  const name = testDatabaseName(Date.now() / 1000, randomBytes(6).toString("hex"))
  await admin(adminUrl, (client) => client.query(`create database ${name}`))
  const migrate = Effect.flatMap(Migrations, (m) => m.awaitApplied).pipe(
    // A migration that fails retries forever in the service; here it would hang the run.
    Effect.timeoutFail({ duration: "120 seconds", onTimeout: () => new Error(`migrating the template database ${name} timed out`) }),
    Effect.provide(Migrations.Default.pipe(Layer.provide(PgClient.layer({ url: Redacted.make(databaseUrl(adminUrl, name)) })))),
    Effect.scoped
  )
  try {
    await Effect.runPromise(migrate)
  } catch (error) {
    await admin(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`)).catch(() => undefined)
    throw error
  }
  // A template must have no sessions when it is copied; the migration pool is closed by now.
  return {
    name,
    drop: () => admin(adminUrl, (client) => client.query(`drop database if exists ${name} with (force)`)).then(() => undefined)
  }
}
