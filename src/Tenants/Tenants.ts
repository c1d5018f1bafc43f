import * as SqlClient from "@effect/sql/SqlClient"
import { Array as Arr, Effect, Either, Option, Redacted } from "effect"
import { sha256 } from "../Auth/Crypto.js"
import { orUnavailable } from "../Database/Errors.js"
import { Notifications } from "../Database/Notifications.js"
import { OutboundUrls } from "../Egress/OutboundUrls.js"
import { failureText } from "../Http/UrlSecrets.js"
import { configProblems, outboundUrlsOf } from "../Tools/ConfigRules.js"
import { decodeTenantConfig } from "./Config.js"
import { computeEtag } from "./Etag.js"
import {
  ifMatchAccepts,
  isJsonObject,
  logUnreadable,
  mergePatch,
  REDACTED,
  redactSecrets,
  runnableTenant,
  type StoredTenant,
  type Tenant
} from "./Domain.js"
import { InvalidTenantConfig, TenantEtagMismatch, TenantNotFound } from "./Errors.js"
import { restoreRedactedSecrets } from "./SecretRestore.js"
import { TenantsRepo } from "./Repo.js"
import { TENANT_CACHE_CHANNEL, TenantCache } from "../TenantCache/TenantCache.js"

/** A document about to be written: it must decode; its typed view is what the write and the response read. */
const validate = (document: Record<string, unknown>): Effect.Effect<Omit<Tenant, "etag">, InvalidTenantConfig> =>
  Either.match(decodeTenantConfig(document), {
    onLeft: (problems) => Effect.fail(new InvalidTenantConfig({ message: `Invalid tenant config: ${problems}` })),
    onRight: (config) => {
      const problems = configProblems(config)
      return problems.length > 0
        ? Effect.fail(new InvalidTenantConfig({ message: `Invalid tenant config: ${problems.join("; ")}` }))
        : Effect.succeed({ tenantId: config.tenant_id, document: { ...document, tenant_id: config.tenant_id }, config })
    }
  })

/** Tenant configuration documents: validated writes with optimistic concurrency, announced to every replica. */
export class Tenants extends Effect.Service<Tenants>()("Tenants", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* TenantsRepo
    const cache = yield* TenantCache
    const notifications = yield* Notifications
    const outboundUrls = yield* OutboundUrls

    /** The webhook URL is refused when configured, not only when deliveries start failing. */
    const checkWebhookUrl = (tenant: Omit<Tenant, "etag">) =>
      Effect.forEach(outboundUrlsOf(tenant.config), ([field, url]) =>
        outboundUrls.check(url, { requireResolvable: false }).pipe(
          // The URL may be a stored one a marker stood for: its credential is not shown.
          Effect.mapError((refused) => new InvalidTenantConfig({ message: `Invalid tenant config: ${field} ${failureText(refused, REDACTED, url)}` }))
        ), { discard: true }).pipe(Effect.as(tenant))

    /** `document` with the stored secrets its markers stand for; a marker that cannot be paired refuses the write. */
    const withStoredSecrets = (document: Record<string, unknown>, stored: unknown) =>
      Either.match(restoreRedactedSecrets(document, stored), {
        onLeft: (problems) => Effect.fail(new InvalidTenantConfig({ message: `Invalid tenant config: ${problems}` })),
        onRight: (restored) => Effect.succeed({ ...(isJsonObject(restored) ? restored : {}), tenant_id: document.tenant_id })
      })

    const checkIfMatch = (tenantId: string, ifMatch: Option.Option<string>, current: string | undefined) =>
      Option.isSome(ifMatch) && !ifMatchAccepts(ifMatch.value, current)
        ? Effect.fail(new TenantEtagMismatch({ tenantId, current: current ?? null }))
        : Effect.void

    /** Writes a validated document inside the caller's transaction. */
    const write = ({ config, document, tenantId }: Omit<Tenant, "etag">) =>
      Effect.gen(function*() {
        const authTokenSha256 = config.auth_token === undefined ? null : sha256(Redacted.value(config.auth_token))
        if (authTokenSha256 !== null) {
          const owner = yield* repo.authTokenOwner(authTokenSha256)
          if (owner !== undefined && owner !== tenantId) {
            return yield* new InvalidTenantConfig({ message: "auth_token is already used by another tenant" })
          }
        }
        const etag = computeEtag(document)
        yield* repo.save({ document, etag, authTokenSha256, twilioAccountSid: config.twilio?.account_sid ?? null })
        yield* notifications.notify(TENANT_CACHE_CHANNEL, tenantId)
        return { tenantId, document, config, etag } satisfies Tenant
      })

    const committed = <A, E, R>(tenantId: string, effect: Effect.Effect<A, E, R>) =>
      orUnavailable(sql.withTransaction(effect)).pipe(Effect.tap(() => cache.evict(tenantId)))

    const get = Effect.fn("Tenants.get")(function*(tenantId: string) {
      const row = yield* repo.findById(tenantId)
      if (Option.isNone(row)) return yield* new TenantNotFound({ tenantId })
      return row.value.stored
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
            const merged = yield* withStoredSecrets(document, current?.config)
            return yield* write(yield* Effect.flatMap(validate(merged), checkWebhookUrl))
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
            // Patched as the document reads, then restored as a PUT of it would be: a secret the patch
            // leaves alone gets the same pairing and host rules as a marker written back.
            const patched = mergePatch(redactSecrets(current.value.document), patch)
            const merged = yield* withStoredSecrets({ ...(isJsonObject(patched) ? patched : {}), tenant_id: tenantId }, current.value.document)
            return yield* write(yield* Effect.flatMap(validate(merged), checkWebhookUrl))
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
        tenants: rows.map((row): StoredTenant => row.stored)
      }
    })

    /** Tenants configured with Twilio account `accountSid` (at most 50); one out of service is left out. */
    const byTwilioAccountSid = Effect.fn("Tenants.byTwilioAccountSid")(function*(accountSid: string) {
      const rows = yield* repo.findByTwilioAccountSid(accountSid)
      const [unreadable, runnable] = Arr.partitionMap(rows, (row) => runnableTenant(row.stored))
      yield* Effect.forEach(unreadable, logUnreadable, { discard: true })
      return runnable
    })

    /** The tenant as a new call would run it; one whose document no longer decodes is out of service. */
    const runnable = Effect.fn("Tenants.runnable")(function*(tenantId: string) {
      return yield* Either.match(runnableTenant(yield* get(tenantId)), { onLeft: Effect.fail, onRight: Effect.succeed })
    })

    /**
     * Checks a document without storing it, as a PUT of it would store it: the console checks a
     * document it read (secrets as markers) before it writes it back.
     */
    const check = Effect.fn("Tenants.validate")(function*(document: Record<string, unknown>) {
      const stored = typeof document.tenant_id === "string" ? yield* repo.findById(document.tenant_id) : Option.none()
      return yield* validate(yield* withStoredSecrets(document, Option.getOrUndefined(Option.map(stored, (row) => row.config))))
    })

    return {
      get,
      list,
      byTwilioAccountSid,
      runnable,
      upsert,
      patchRuntime,
      remove,
      validate: check
    } as const
  }),
  dependencies: [TenantsRepo.Default, TenantCache.Default]
}) {}
