import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { AppConfig } from "../src/Config.js"
import { DatabaseUrl, SqlLive } from "../src/Database/Client.js"
import { LimitsRepo } from "../src/Limits/Repo.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"

const Database = SqlLive.pipe(
  Layer.provide(Layer.scoped(DatabaseUrl, Effect.map(testDatabaseUrl, Redacted.make))),
  Layer.provide(AppConfig.Default)
)

const TENANT = "commit"

/**
 * The inbound admission holds the tenant's advisory lock until its commit: it commits without
 * waiting for the WAL flush (`synchronous_commit = off` for its own transaction only), so the next
 * admission of the tenant no longer waits for this one's fdatasync (src/Limits/Repo.ts
 * `commitWithoutFlush`). Checked inside a transaction the test opens around the statement: the
 * setting is what the statement leaves for the commit of the transaction it runs in.
 */
layer(Layer.provideMerge(LimitsRepo.Default, Database))("the inbound admission's commit", (it) => {
  const setting = Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(sql<{ value: string }>`select current_setting('synchronous_commit') as value`, (rows) => rows[0]!.value))

  const input = (callSid: string, maxTenant: number) => ({
    id: crypto.randomUUID(),
    tenantId: TENANT,
    replicaId: "replica-commit",
    callSid,
    at: new Date(),
    cutoff: new Date(Date.now() - 90_000),
    maxTenant,
    maxReplica: 100
  })

  const seen = (callSid: string) => ({
    tenantId: TENANT,
    callSid,
    direction: "inbound" as const,
    from: "+15550001000",
    to: "+15550002000",
    agentVersionId: null,
    twilioStatus: "ringing",
    at: new Date()
  })

  it.effect("commits without a flush, only its own transaction; the cap still counts it", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const repo = yield* LimitsRepo
      yield* sql`insert into tenants (tenant_id, config, etag) values (${TENANT}, '{}', 'e')`

      const [before, admitted, during] = yield* sql.withTransaction(Effect.all([
        setting,
        repo.admitInboundSeen(input("CAcommit0001", 2), crypto.randomUUID(), seen("CAcommit0001")),
        setting
      ]))
      expect(before).toBe("on")
      expect(admitted.admitted).toHaveLength(1)
      expect(during).toBe("off")
      // The setting ended with that transaction: the next statement on the pool commits as before.
      expect(yield* sql.withTransaction(setting)).toBe("on")

      const [, second, afterSecond] = yield* sql.withTransaction(Effect.all([
        setting,
        repo.admitInbound(input("CAcommit0002", 2)),
        setting
      ]))
      expect(second.admitted).toHaveLength(1)
      expect(afterSecond).toBe("off")

      // Both admissions are committed and counted: at the cap of 2 the third is refused.
      const third = yield* repo.admitInbound(input("CAcommit0003", 2))
      expect(third).toMatchObject({ admitted: null, refusal: "tenant_concurrency", tenant_calls: 2 })
      const logs = yield* sql<{ n: number }>`select count(*)::int as n from call_logs where tenant_id = ${TENANT}`
      expect(logs[0]!.n).toBe(1)
    }))
})
