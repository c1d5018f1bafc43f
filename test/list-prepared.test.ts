import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { CallLogsRepo } from "../src/CallLogs/Repo.js"
import { AppConfig } from "../src/Config.js"
import { DatabaseUrl, SqlLive } from "../src/Database/Client.js"
import { SessionsRepo } from "../src/VoiceSessions/Repo.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"

// One connection: the statements prepared by the lists are the ones this test reads back.
const OneConnection = Layer.setConfigProvider(
  ConfigProvider.fromMap(new Map([["DATABASE_POOL_MAX", "1"]])).pipe(ConfigProvider.orElse(() => ConfigProvider.fromEnv()))
)

const Database = SqlLive.pipe(
  Layer.provide(Layer.scoped(DatabaseUrl, Effect.map(testDatabaseUrl, Redacted.make))),
  Layer.provide(AppConfig.Default),
  Layer.provide(OneConnection)
)

const Repos = Layer.mergeAll(SessionsRepo.Default, CallLogsRepo.Default).pipe(Layer.provideMerge(Database))

const sessions = { tenantId: "acme", status: null, search: null, startedAfter: null, ascending: false, limit: 50, offset: 0 }

/**
 * A tenant's plain first list page runs as a named prepared statement with its limit in the
 * text (PostgreSQL can then keep one generic plan: Database/PageBounds.ts); searches, filters
 * and offsets run unnamed (Database/HotStatement.ts `prepared`).
 */
layer(Repos)("list pages as prepared statements", (it) => {
  it.effect("plain first pages are prepared, once per text; searches, filters and offsets are not", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const sessionsRepo = yield* SessionsRepo
      const callLogs = yield* CallLogsRepo
      for (let i = 0; i < 2; i++) {
        yield* sessionsRepo.list(sessions)
        yield* sessionsRepo.list({ ...sessions, search: "refund" })
        yield* sessionsRepo.list({ ...sessions, status: "completed" })
        yield* sessionsRepo.list({ ...sessions, offset: 50 })
        yield* callLogs.list({ tenantId: "acme", limit: 51, offset: 0 })
        yield* callLogs.list({ tenantId: "acme", limit: 51, offset: 0, transcriptSearch: "refund" })
        yield* callLogs.list({ tenantId: "acme", limit: 51, offset: 0, status: "completed" })
        yield* callLogs.list({ tenantId: "acme", limit: 51, offset: 100 })
      }
      const prepared = yield* sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements`
      expect(prepared.map((row) => row.name).every((name) => /^ssv_[0-9a-f]{32}$/.test(name))).toBe(true)
      const described = prepared.map((row) => ({
        table: row.statement.includes("from voice_sessions") ? "voice_sessions" : "call_logs",
        limit: /limit (\d+)/.exec(row.statement)?.[1],
        offset: row.statement.includes("offset"),
        filtered: /ilike|status =|search/.test(row.statement)
      }))
      expect(described.sort((a, b) => a.table.localeCompare(b.table))).toEqual([
        { table: "call_logs", limit: "51", offset: false, filtered: false },
        { table: "voice_sessions", limit: "50", offset: false, filtered: false }
      ])
    }))
})
