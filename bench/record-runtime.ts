/**
 * A tree's end-of-call record (CallRecords.recordCompletedCall) with only the record's own
 * services, none of the service's background work (outbox delivery, sweeps), on a database of its
 * own created for the run and dropped after it, with the tenant "acme" (a webhook URL, so the
 * record writes its event): bench/record-cost.ts and bench/record-batches.ts. The tree's src/ is
 * loaded, so two trees compare in the same way.
 */
import * as path from "node:path"
import pg from "pg"

export const withRecordRuntime = async <A>(
  tree: string,
  databaseName: string,
  tenant: Record<string, unknown>,
  use: (records: {
    readonly runtime: import("effect").ManagedRuntime.ManagedRuntime<unknown, unknown>
    readonly CallRecords: import("effect").Context.Tag<unknown, unknown>
    readonly databaseUrl: string
  }) => Promise<A>
): Promise<A> => {
  const adminUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres"
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`create database ${databaseName}`)
  const url = new URL(adminUrl)
  url.pathname = `/${databaseName}`
  process.env.DATABASE_URL = url.toString()
  process.env.ALLOW_PRIVATE_OUTBOUND_URLS = "true"
  process.env.ADMIN_API_KEY ??= "record-bench-admin-key"
  process.env.OPENAI_API_KEY ??= "sk-record-bench"
  try {
    const { Effect, Layer, ManagedRuntime, Option } = await import("effect")
    const { InfrastructureLive } = await import(path.join(tree, "src/Services.ts"))
    const { CallRecords } = await import(path.join(tree, "src/CallLogs/CallRecords.ts"))
    const { Tenants } = await import(path.join(tree, "src/Tenants/Tenants.ts"))
    const { TenantCache } = await import(path.join(tree, "src/TenantCache/TenantCache.ts"))
    const { VoiceRecords } = await import(path.join(tree, "src/VoiceSessions/VoiceRecords.ts"))
    const { VersionResolution } = await import(path.join(tree, "src/Agents/VersionResolution.ts"))
    const { Migrations } = await import(path.join(tree, "src/Database/Migrations.ts"))
    const RecordsLive = Layer.mergeAll(CallRecords.Default, Tenants.Default).pipe(
      Layer.provide(Layer.mergeAll(VoiceRecords.Default, VersionResolution.Default, TenantCache.Default)),
      Layer.provideMerge(InfrastructureLive)
    )
    const runtime = ManagedRuntime.make(RecordsLive as import("effect").Layer.Layer<unknown>)
    try {
      await runtime.runPromise(Effect.gen(function*() {
        yield* (yield* Migrations).awaitApplied
        yield* (yield* Tenants).upsert("acme", {
          tenant_id: "acme",
          auth_token: "acme-bearer-token-0123456789",
          webhook_url: "http://127.0.0.1:9/hooks",
          ...tenant
        }, Option.none())
      }))
      return await use({ runtime, CallRecords, databaseUrl: url.toString() })
    } finally {
      await runtime.dispose()
    }
  } finally {
    await admin.query(`drop database if exists ${databaseName} with (force)`)
    await admin.end()
  }
}
