import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import { Deferred, Effect, Schedule } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations", import.meta.url))
const TABLE = "effect_sql_migrations"
/** Arbitrary constant shared by every replica: only one of them migrates at a time. */
const MIGRATION_LOCK_KEY = 727_001

/** Plain `NNNN_name.sql` files, each run as one multi-statement script. */
const sqlFileLoader: Migrator.Loader = Effect.try({
  try: () =>
    fs.readdirSync(MIGRATIONS_DIR)
      .flatMap((file): ReadonlyArray<Migrator.ResolvedMigration> => {
        const match = /^(\d+)_(.+)\.sql$/.exec(file)
        if (match === null) return []
        const script = fs.readFileSync(path.join(MIGRATIONS_DIR, file), "utf8")
        const run = Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(script))
        return [[Number(match[1]), match[2], Effect.succeed(run)]]
      })
      .sort(([a], [b]) => a - b),
  catch: (cause) => new Migrator.MigrationError({ reason: "failed", message: `cannot read ${MIGRATIONS_DIR}`, cause })
})

const runMigrations = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const migrate = Migrator.make({})({ loader: sqlFileLoader, table: TABLE })
  return yield* sql.withTransaction(Effect.gen(function*() {
    yield* sql`select pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`
    // Created here, under the lock, so two replicas starting together do not race on it.
    yield* sql`create table if not exists ${sql(TABLE)} (
      migration_id integer primary key,
      created_at timestamptz not null default now(),
      name text not null
    )`
    return yield* migrate
  }))
})

/**
 * Applies `migrations/` in the background, retrying with backoff while PostgreSQL is
 * unreachable, so the HTTP server (and its readiness probe) is up meanwhile.
 */
export class Migrations extends Effect.Service<Migrations>()("Migrations", {
  scoped: Effect.gen(function*() {
    const applied = yield* Deferred.make<void>()
    yield* runMigrations.pipe(
      Effect.tap((ran) => Effect.logInfo("migrations applied").pipe(Effect.annotateLogs("ran", ran.length))),
      Effect.tapError((error) => Effect.logWarning("migrations not applied yet, retrying", error)),
      Effect.retry(Schedule.exponential("200 millis").pipe(Schedule.union(Schedule.spaced("10 seconds")))),
      Effect.zipRight(Deferred.succeed(applied, undefined)),
      Effect.forkScoped
    )
    return {
      isApplied: Deferred.isDone(applied),
      awaitApplied: Deferred.await(applied)
    } as const
  })
}) {}
