import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import { Effect, Option, Schema } from "effect"
import { orNothing, orRefused, orUnavailable } from "../Database/Errors.js"
import { TenantNotFound } from "../Tenants/Errors.js"
import { TenantApiKeyMetadata } from "./Api.js"

const COLUMNS = "id, key_prefix, label, created_at, last_used_at, revoked_at"

export class ActiveApiKey extends Schema.Class<ActiveApiKey>("ActiveApiKey")({
  id: Schema.String,
  tenant_id: Schema.String
}) {}

const decodeActive = Schema.decodeUnknown(Schema.Struct(ActiveApiKey.fields))

/** SQL for `tenant_api_keys`; every statement names the tenant except the hash lookup that finds it. */
export class ApiKeysRepo extends Effect.Service<ApiKeysRepo>()("ApiKeysRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const insert = SqlSchema.single({
      Request: Schema.Struct({
        id: Schema.String,
        tenant_id: Schema.String,
        key_prefix: Schema.String,
        key_sha256: Schema.Uint8ArrayFromSelf,
        label: Schema.NullOr(Schema.String)
      }),
      Result: TenantApiKeyMetadata,
      execute: (row) =>
        sql`insert into tenant_api_keys ${sql.insert(row)} returning ${sql.unsafe(COLUMNS)}`
    })

    const list = SqlSchema.findAll({
      Request: Schema.String,
      Result: TenantApiKeyMetadata,
      execute: (tenantId) =>
        sql`select ${sql.unsafe(COLUMNS)} from tenant_api_keys where tenant_id = ${tenantId} order by created_at, id`
    })

    const revoke = SqlSchema.findOne({
      Request: Schema.Struct({ tenant_id: Schema.String, id: Schema.String }),
      Result: TenantApiKeyMetadata,
      execute: ({ id, tenant_id }) =>
        sql`update tenant_api_keys set revoked_at = coalesce(revoked_at, now())
            where tenant_id = ${tenant_id} and id = ${id}
            returning ${sql.unsafe(COLUMNS)}`
    })

    // On every request: a plain statement and a compiled struct decoder (no request encoding,
    // no class instance validated in its constructor).
    const findActive = (hash: Buffer) =>
      sql`select id, tenant_id from tenant_api_keys where key_sha256 = ${hash} and revoked_at is null`.pipe(
        Effect.flatMap((rows) => rows.length === 0 ? Effect.succeed(Option.none()) : Effect.map(decodeActive(rows[0]), Option.some))
      )

    const touch = (tenantId: string, id: string) =>
      sql`update tenant_api_keys set last_used_at = now() where tenant_id = ${tenantId} and id = ${id}`

    return {
      /** The label comes from the request; the tenant may have been deleted since it was checked. */
      insert: (row: Parameters<typeof insert>[0]) =>
        orRefused(insert(row).pipe(Effect.catchTag("NoSuchElementException", Effect.die)), {
          tenant_api_keys_tenant_id_fkey: () => new TenantNotFound({ tenantId: row.tenant_id })
        }),
      list: (tenantId: string) => orUnavailable(list(tenantId)),
      /** None also for a tenant id from the path that PostgreSQL cannot store: it names no key. */
      revoke: (tenantId: string, id: string) => orNothing(revoke({ tenant_id: tenantId, id }), Option.none()),
      findActive: (hash: Buffer) => orUnavailable(findActive(hash)),
      touch: (tenantId: string, id: string) => orUnavailable(touch(tenantId, id))
    } as const
  })
}) {}
