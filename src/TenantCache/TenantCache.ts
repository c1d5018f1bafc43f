import { Clock, Effect, Either, Option } from "effect"
import { sha256, sha256Hex } from "../Auth/Crypto.js"
import { Notifications } from "../Database/Notifications.js"
import { logUnreadable, runnableTenant, type Tenant } from "../Tenants/Domain.js"
import type { TenantConfigUnreadable } from "../Tenants/Errors.js"
import { type TenantRow, TenantsRepo } from "../Tenants/Repo.js"

/** Channel on which every replica hears "tenant X changed" ("*" = all). */
export const TENANT_CACHE_CHANNEL = "tenant_cache"

export type CachedTenant = Tenant

/** A loaded row: the tenant, or why it is out of service (kept too, so that is logged once per load). */
type Loaded = Either.Either<CachedTenant, TenantConfigUnreadable>

interface Entry {
  readonly tenant: Loaded
  readonly loadedAt: number
  lastAccessAt: number
}

interface TokenCounters {
  tenantId: string | undefined
  hits: number
  misses: number
  reloads: number
  evictions: number
}

/** Rows are decoded here, once per load; everything downstream reads the typed config. */
const decodeRow = (row: TenantRow): Effect.Effect<Loaded> => {
  const loaded = runnableTenant(row.stored)
  return Either.isLeft(loaded) ? Effect.as(logUnreadable(loaded.left), loaded) : Effect.succeed(loaded)
}

/**
 * Per-replica cache of tenant configs, read through from PostgreSQL and invalidated on
 * every replica by NOTIFY. A load that races an invalidation is not stored (generation
 * check), so a stale config cannot outlive the notification that announced its change.
 */
export class TenantCache extends Effect.Service<TenantCache>()("TenantCache", {
  scoped: Effect.gen(function*() {
    const repo = yield* TenantsRepo
    const notifications = yield* Notifications
    const entries = new Map<string, Entry>()
    const byToken = new Map<string, TokenCounters>()
    const counters = { hits: 0, misses: 0, evictions: 0, reloads: 0 }
    let generation = 0

    const store = (tenantId: string, tenant: Loaded, startedAt: number) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        if (generation === startedAt) entries.set(tenantId, { tenant, loadedAt: now, lastAccessAt: now })
        return tenant
      })

    const evict = (tenantId: string) => {
      generation++
      if (entries.delete(tenantId)) counters.evictions++
      for (const token of byToken.values()) {
        if (token.tenantId === tenantId) {
          token.evictions++
          token.tenantId = undefined
        }
      }
    }

    const evictAll = () => {
      generation++
      counters.evictions += entries.size
      entries.clear()
      for (const token of byToken.values()) token.tenantId = undefined
    }

    yield* notifications.on(TENANT_CACHE_CHANNEL, (event) => {
      if (event._tag === "Resync" || event.payload === "*") evictAll()
      // Our own writes evicted at commit; their echo would only evict a fresh reload.
      else if (!event.local) evict(event.payload)
    })

    const load = (tenantId: string) =>
      Effect.gen(function*() {
        const startedAt = generation
        const row = yield* repo.findById(tenantId)
        if (Option.isNone(row)) return Option.none<Loaded>()
        return Option.some(yield* store(tenantId, yield* decodeRow(row.value), startedAt))
      })

    /** A tenant out of service reads as absent. */
    const getMiss = Effect.fn("TenantCache.get")(function*(tenantId: string) {
      counters.misses++
      return Option.flatMap(yield* load(tenantId), Either.getRight)
    })
    /** A hit is a map read on every request: no span or captured stack for it, only for a load. */
    const get = (tenantId: string) =>
      Effect.suspend(() => {
        const entry = entries.get(tenantId)
        if (entry === undefined) return getMiss(tenantId)
        counters.hits++
        return Effect.map(Clock.currentTimeMillis, (now) => {
          entry.lastAccessAt = now
          return Either.getRight(entry.tenant)
        })
      })

    /**
     * `get`'s hit as plain code (the authentication of nearly every request): the tenant (none
     * if out of service), or undefined on a miss, which `get` loads.
     */
    const recall = (tenantId: string, now: number): Option.Option<CachedTenant> | undefined => {
      const entry = entries.get(tenantId)
      if (entry === undefined) return undefined
      counters.hits++
      entry.lastAccessAt = now
      return Either.getRight(entry.tenant)
    }

    /**
     * `findByAuthToken`'s hit as plain code (legacy bearer tokens on every request): the
     * tenant, or undefined on a miss, which `findByAuthToken` looks up.
     */
    const recallByAuthToken = (token: string, now: number): Option.Option<CachedTenant> | undefined => {
      const counter = byToken.get(sha256Hex(token))
      const cached = counter?.tenantId === undefined ? undefined : entries.get(counter.tenantId)
      if (counter === undefined || cached === undefined) return undefined
      counter.hits++
      counters.hits++
      cached.lastAccessAt = now
      return Either.getRight(cached.tenant)
    }

    /** The tenant whose legacy `auth_token` is `token`; looked up by its hash. */
    const findByAuthToken = Effect.fn("TenantCache.findByAuthToken")(function*(token: string) {
      const key = sha256Hex(token)
      const counter = byToken.get(key) ?? { tenantId: undefined, hits: 0, misses: 0, reloads: 0, evictions: 0 }
      byToken.set(key, counter)
      const cached = counter.tenantId === undefined ? undefined : entries.get(counter.tenantId)
      if (cached !== undefined) {
        counter.hits++
        counters.hits++
        cached.lastAccessAt = yield* Clock.currentTimeMillis
        return Either.getRight(cached.tenant)
      }
      counter.misses++
      counters.misses++
      const startedAt = generation
      const row = yield* repo.findByAuthTokenSha256(sha256(token))
      if (Option.isNone(row)) return Option.none<CachedTenant>()
      const tenant = yield* store(row.value.tenant_id, yield* decodeRow(row.value), startedAt)
      if (generation === startedAt) counter.tenantId = row.value.tenant_id
      return Either.getRight(tenant)
    })

    /** Re-reads the tenant; one whose document no longer decodes fails with the reason. */
    const reload = Effect.fn("TenantCache.reload")(function*(tenantId: string) {
      evict(tenantId)
      counters.reloads++
      for (const token of byToken.values()) if (token.tenantId === tenantId) token.reloads++
      const loaded = yield* load(tenantId)
      if (Option.isNone(loaded)) return Option.none<CachedTenant>()
      return Option.some(yield* loaded.value)
    })

    return {
      get,
      recall,
      findByAuthToken,
      recallByAuthToken,
      reload,
      evict: (tenantId: string) => Effect.sync(() => evict(tenantId)),
      cachedTenantIds: Effect.sync(() => [...entries.keys()].sort()),
      /** The cached tenants in service. */
      cachedTenants: Effect.sync(() => [...entries.values()].flatMap((entry) => Either.isRight(entry.tenant) ? [entry.tenant.right] : [])),
      /** Drops entries not used for `maxIdleMillis`; returns [evicted, remaining]. */
      evictIdle: (maxIdleMillis: number) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          let evicted = 0
          for (const [tenantId, entry] of entries) {
            if (now - entry.lastAccessAt > maxIdleMillis) {
              evict(tenantId)
              evicted++
            }
          }
          return [evicted, entries.size] as const
        }),
      metrics: Effect.sync(() => ({ ...counters, entries: entries.size })),
      tokenMetrics: Effect.sync(() =>
        [...byToken.entries()].map(([key, counter]) => ({
          cacheKey: `sha256:${key.slice(0, 12)}`,
          cachePresent: counter.tenantId !== undefined && entries.has(counter.tenantId),
          ...counter
        }))
      )
    } as const
  }),
  dependencies: [TenantsRepo.Default]
}) {}
