import { SqlClient } from "@effect/sql"
import { Effect, Either, Option } from "effect"
import { sha256 } from "../Auth/Crypto.js"
import { orUnavailable } from "../Database/Errors.js"
import { Notifications } from "../Database/Notifications.js"
import {
  computeEtag,
  ifMatchAccepts,
  mergePatch,
  objectField,
  restoreRedactedSecrets,
  stringField,
  type TenantConfig,
  validateTenantConfig
} from "./Domain.js"
import { InvalidTenantConfig, TenantEtagMismatch, TenantNotFound } from "./Errors.js"
import { TenantsRepo } from "./Repo.js"
import { TENANT_CACHE_CHANNEL, TenantCache } from "../TenantCache/TenantCache.js"

export interface StoredTenant {
  readonly tenantId: string
  readonly config: TenantConfig
  readonly etag: string
}

const validate = (doc: Record<string, unknown>): Effect.Effect<TenantConfig, InvalidTenantConfig> =>
  Either.match(validateTenantConfig(doc), {
    onLeft: (message) => Effect.fail(new InvalidTenantConfig({ message })),
    onRight: Effect.succeed
  })

/** Tenant configuration documents: validated writes with optimistic concurrency, announced to every replica. */
export class Tenants extends Effect.Service<Tenants>()("Tenants", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* TenantsRepo
    const cache = yield* TenantCache
    const notifications = yield* Notifications

    const checkIfMatch = (tenantId: string, ifMatch: Option.Option<string>, current: string | undefined) =>
      Option.isSome(ifMatch) && !ifMatchAccepts(ifMatch.value, current)
        ? Effect.fail(new TenantEtagMismatch({ tenantId, current: current ?? null }))
        : Effect.void

    /** Writes `config` (already validated) inside the caller's transaction. */
    const write = (config: TenantConfig) =>
      Effect.gen(function*() {
        const authToken = stringField(config, "auth_token")
        const authTokenSha256 = authToken === undefined ? null : sha256(authToken)
        if (authTokenSha256 !== null) {
          const owner = yield* repo.authTokenOwner(authTokenSha256)
          if (owner !== undefined && owner !== config.tenant_id) {
            return yield* new InvalidTenantConfig({ message: "auth_token is already used by another tenant" })
          }
        }
        const etag = computeEtag(config)
        const accountSid = objectField(config, "twilio").account_sid
        yield* repo.save({
          config,
          etag,
          authTokenSha256,
          twilioAccountSid: typeof accountSid === "string" ? accountSid : null
        })
        yield* notifications.notify(TENANT_CACHE_CHANNEL, config.tenant_id)
        return { tenantId: config.tenant_id, config, etag } satisfies StoredTenant
      })

    const committed = <A, E, R>(tenantId: string, effect: Effect.Effect<A, E, R>) =>
      orUnavailable(sql.withTransaction(effect)).pipe(Effect.tap(() => cache.evict(tenantId)))

    const get = Effect.fn("Tenants.get")(function*(tenantId: string) {
      const row = yield* repo.findById(tenantId)
      if (Option.isNone(row)) return yield* new TenantNotFound({ tenantId })
      return { tenantId, config: row.value.document, etag: row.value.etag } satisfies StoredTenant
    })

    const upsert = Effect.fn("Tenants.upsert")(
      function*(tenantId: string, document: Record<string, unknown>, ifMatch: Option.Option<string>) {
        if (document.tenant_id !== tenantId) {
          return yield* new InvalidTenantConfig({
            message: `tenant_id in the body (${String(document.tenant_id)}) does not match the path (${tenantId})`
          })
        }
        return yield* committed(
          tenantId,
          Effect.gen(function*() {
            const current = Option.getOrUndefined(yield* repo.findByIdForUpdate(tenantId))
            yield* checkIfMatch(tenantId, ifMatch, current?.etag)
            const merged = restoreRedactedSecrets(document, current?.config) as Record<string, unknown>
            return yield* write(yield* validate(merged))
          })
        )
      }
    )

    const patchRuntime = Effect.fn("Tenants.patchRuntime")(
      function*(tenantId: string, patch: Record<string, unknown>, ifMatch: Option.Option<string>) {
        if ("tenant_id" in patch && patch.tenant_id !== tenantId) {
          return yield* new InvalidTenantConfig({ message: "tenant_id cannot be changed by a runtime patch" })
        }
        return yield* committed(
          tenantId,
          Effect.gen(function*() {
            const current = yield* repo.findByIdForUpdate(tenantId)
            if (Option.isNone(current)) return yield* new TenantNotFound({ tenantId })
            yield* checkIfMatch(tenantId, ifMatch, current.value.etag)
            const patched = mergePatch(current.value.document, restoreRedactedSecrets(patch, current.value.config))
            return yield* write(yield* validate({ ...(patched as Record<string, unknown>), tenant_id: tenantId }))
          })
        )
      }
    )

    const remove = Effect.fn("Tenants.remove")(function*(tenantId: string) {
      const removed = yield* committed(
        tenantId,
        Effect.zipLeft(repo.remove(tenantId), notifications.notify(TENANT_CACHE_CHANNEL, tenantId))
      ).pipe(
        // An id PostgreSQL cannot store (NUL) names no tenant.
        Effect.catchTag("InvalidInput", () => Effect.succeed(false))
      )
      if (!removed) return yield* new TenantNotFound({ tenantId })
    })

    const list = Effect.fn("Tenants.list")(function*(limit: number, offset: number) {
      const [rows, count] = yield* Effect.all([repo.page(limit, offset), repo.count], { concurrency: 2 })
      return {
        count,
        tenants: rows.map((row): StoredTenant => ({ tenantId: row.tenant_id, config: row.document, etag: row.etag }))
      }
    })

    /** Tenants configured with Twilio account `accountSid` (at most 50). */
    const byTwilioAccountSid = Effect.fn("Tenants.byTwilioAccountSid")(function*(accountSid: string) {
      const rows = yield* repo.findByTwilioAccountSid(accountSid)
      return rows.map((row): StoredTenant => ({ tenantId: row.tenant_id, config: row.document, etag: row.etag }))
    })

    return {
      get,
      list,
      byTwilioAccountSid,
      upsert,
      patchRuntime,
      remove,
      /** Checks a document without storing it. */
      validate: (document: Record<string, unknown>) => validate(document)
    } as const
  }),
  dependencies: [TenantsRepo.Default, TenantCache.Default]
}) {}
