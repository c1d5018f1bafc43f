import * as SqlSchema from "@effect/sql/SqlSchema"
import { PgClient } from "@effect/sql-pg"
import { Effect, Option, Schema } from "effect"
import { orNothing, orRefused, orUnavailable } from "../Database/Errors.js"
import { Timestamp } from "../Http/Schemas.js"
import type { StoredTenant, TenantDocument } from "./Domain.js"

export class TenantRow extends Schema.Class<TenantRow>("TenantRow")({
  tenant_id: Schema.String,
  config: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  etag: Schema.String,
  updated_at: Timestamp
}) {
  get document(): TenantDocument {
    return { ...this.config, tenant_id: this.tenant_id }
  }

  get stored(): StoredTenant {
    return { tenantId: this.tenant_id, etag: this.etag, document: this.document }
  }
}

export interface TenantWrite {
  readonly document: TenantDocument
  readonly etag: string
  readonly authTokenSha256: Buffer | null
  readonly twilioAccountSid: string | null
}

/** SQL for `tenants`. Callers hold the transaction when they read-then-write. */
export class TenantsRepo extends Effect.Service<TenantsRepo>()("TenantsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient

    const findById = SqlSchema.findOne({
      Request: Schema.String,
      Result: TenantRow,
      execute: (tenantId) => sql`select tenant_id, config, etag, updated_at from tenants where tenant_id = ${tenantId}`
    })

    const findByIdForUpdate = SqlSchema.findOne({
      Request: Schema.String,
      Result: TenantRow,
      execute: (tenantId) =>
        sql`select tenant_id, config, etag, updated_at from tenants where tenant_id = ${tenantId} for update`
    })

    const findByAuthTokenSha256 = SqlSchema.findOne({
      Request: Schema.Uint8ArrayFromSelf,
      Result: TenantRow,
      execute: (hash) =>
        sql`select tenant_id, config, etag, updated_at from tenants where auth_token_sha256 = ${hash}`
    })

    /** Tenants whose Twilio account is `accountSid` (webhook resolution tries each by signature). */
    const findByTwilioAccountSid = SqlSchema.findAll({
      Request: Schema.String,
      Result: TenantRow,
      execute: (accountSid) =>
        sql`select tenant_id, config, etag, updated_at from tenants
            where twilio_account_sid = ${accountSid} order by tenant_id limit 50`
    })

    const page = SqlSchema.findAll({
      Request: Schema.Struct({ limit: Schema.Number, offset: Schema.Number }),
      Result: TenantRow,
      execute: ({ limit, offset }) =>
        sql`select tenant_id, config, etag, updated_at from tenants order by tenant_id limit ${limit} offset ${offset}`
    })

    const count = sql<{ count: number }>`select count(*)::int as count from tenants`.pipe(
      Effect.map((rows) => rows[0]?.count ?? 0)
    )

    const authTokenOwner = (hash: Buffer) =>
      sql<{ tenant_id: string }>`select tenant_id from tenants where auth_token_sha256 = ${hash}`.pipe(
        Effect.map((rows) => rows[0]?.tenant_id)
      )

    const save = (write: TenantWrite) =>
      sql`
        insert into tenants (tenant_id, config, etag, auth_token_sha256, twilio_account_sid)
        values (${write.document.tenant_id}, ${sql.json(write.document)}, ${write.etag}, ${write.authTokenSha256}, ${write.twilioAccountSid})
        on conflict (tenant_id) do update set
          config = excluded.config,
          etag = excluded.etag,
          auth_token_sha256 = excluded.auth_token_sha256,
          twilio_account_sid = excluded.twilio_account_sid,
          updated_at = now()`.pipe(Effect.asVoid)

    const remove = (tenantId: string) =>
      sql<{ tenant_id: string }>`delete from tenants where tenant_id = ${tenantId} returning tenant_id`.pipe(
        Effect.map((rows) => rows.length > 0)
      )

    // Tenant ids come from paths: one PostgreSQL cannot store (NUL) names no tenant.
    // Inside a transaction a refused value must fail it instead (the transaction is aborted).
    return {
      findById: (tenantId: string) => orNothing(findById(tenantId), Option.none()),
      findByIdForUpdate: (tenantId: string) => orRefused(findByIdForUpdate(tenantId)),
      findByAuthTokenSha256: (hash: Buffer) => orUnavailable(findByAuthTokenSha256(hash)),
      /** `accountSid` comes from an unauthenticated webhook parameter. */
      findByTwilioAccountSid: (accountSid: string) => orNothing(findByTwilioAccountSid(accountSid), []),
      authTokenOwner: (hash: Buffer) => orUnavailable(authTokenOwner(hash)),
      page: (limit: number, offset: number) => orUnavailable(page({ limit, offset })),
      count: orUnavailable(count),
      save: (write: TenantWrite) => orRefused(save(write)),
      remove: (tenantId: string) => orRefused(remove(tenantId))
    } as const
  })
}) {}
