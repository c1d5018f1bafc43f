import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import pg from "pg"
import { AppConfig } from "../Config.js"
import { startEmbeddedPostgres } from "./Embedded.js"
import { isoOfTimestamptz } from "./TimestampText.js"

/** Where PostgreSQL is: `DATABASE_URL`, or an embedded server this process starts and stops. */
export class DatabaseUrl extends Context.Tag("DatabaseUrl")<DatabaseUrl, Redacted.Redacted<string>>() {
  static readonly layer = Layer.scoped(
    DatabaseUrl,
    Effect.gen(function*() {
      const config = yield* AppConfig
      return Option.isSome(config.databaseUrl)
        ? config.databaseUrl.value
        : yield* startEmbeddedPostgres(config.embeddedDataDir)
    })
  )
}

/**
 * Counts come back as int8 (every one we read fits a JS number); timestamps as ISO 8601
 * text, so rows decode with the same `Timestamp` schema the wire uses, and list pages write
 * them as they come (Http/RowJson.ts).
 */
const typeParsers = ((oid: number, format?: "text" | "binary") => {
  switch (oid) {
    case pg.types.builtins.INT8:
      return (value: string) => Number(value)
    case pg.types.builtins.TIMESTAMPTZ:
      return isoOfTimestamptz
    default:
      return pg.types.getTypeParser(oid, format)
  }
}) as typeof pg.types.getTypeParser

/** The `pg` pool behind the SQL client, for its gauges (connections in use, waiting queries). */
export class DatabasePool extends Context.Tag("DatabasePool")<DatabasePool, pg.Pool>() {}

/**
 * The shared pool. It is built without a start-up probe so the service comes up (and
 * reports not-ready) while PostgreSQL is away; every query then fails fast and is retried
 * by the caller's schedule or surfaced as 503.
 */
const PoolLive = Layer.scoped(
  DatabasePool,
  Effect.flatMap(Effect.all([DatabaseUrl, AppConfig]), ([url, config]) =>
    Effect.acquireRelease(
      Effect.sync(() => {
        const pool = new pg.Pool({
          connectionString: Redacted.value(url),
          // DATABASE_POOL_MAX: every replica opens up to this many (README, "Several replicas").
          max: config.databasePoolMax,
          connectionTimeoutMillis: 2_000,
          // Connections a burst opened stay open for the next one: a new session loads the set-up's
          // functions again (~700 buffers, tens of ms on a busy box) inside the tenant's admission lock.
          // Never more than DATABASE_POOL_MAX, which PostgreSQL's connection budget already counts.
          min: config.databasePoolMax,
          idleTimeoutMillis: 30_000,
          keepAlive: true,
          application_name: "stateset-voice",
          // JIT compiles a plan in 50-1000 ms once its estimated cost is high (a count over a
          // large tenant); every query here is short, so it only adds latency.
          // UTC sessions: a timestamp's text is then rearranged into the API's, not parsed
          // (Database/TimestampText.ts), and day and hour arithmetic is UTC's as the rollups'.
          options: "-c jit=off -c TimeZone=UTC",
          types: { getTypeParser: typeParsers }
        })
        // An idle connection dropped by the server must not crash the process.
        pool.on("error", () => {})
        return pool
      }),
      (pool) => Effect.promise(() => pool.end()).pipe(Effect.timeout("5 seconds"), Effect.ignore)
    ))
)

/** The SQL client on the shared pool (the pool is closed after the client is released). */
export const SqlLive = Layer.unwrapEffect(
  Effect.map(DatabasePool, (pool) => PgClient.layerFromPool({ acquire: Effect.succeed(pool) }))
).pipe(Layer.provideMerge(PoolLive))
