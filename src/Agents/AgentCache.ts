import { Effect } from "effect"
import { Notifications } from "../Database/Notifications.js"
import { TENANT_CACHE_CHANNEL } from "../TenantCache/TenantCache.js"

/**
 * Channel on which PostgreSQL itself announces "tenant X's agents changed": triggers on
 * agents, agent_versions, agent_version_rollouts and phone_number_routes (migration 0022),
 * so every writer (services, governance, a hand-run UPDATE) reaches every replica at commit.
 */
export const AGENT_CACHE_CHANNEL = "agent_cache"

/** Entries one tenant may hold before its shelf is cleared (keys come from signed webhooks, still bounded). */
const MAX_KEYS_PER_TENANT = 1_000

interface Shelf {
  readonly dropTenant: (tenantId: string) => void
  readonly clear: () => void
}

/**
 * Per-replica memo of what a webhook needs to pick an agent version (the tenant's agent,
 * its rollout weights, a version), so a call's set-up does not read them from PostgreSQL
 * each time. Invalidated per tenant by NOTIFY from the database's triggers, dropped whole on
 * a listen-connection resync; a load that races an invalidation is not stored (generation
 * check, as in the tenant cache). Writers on this replica also evict after their commit, so
 * their own next webhook never waits for the notification's echo.
 */
export class AgentCache extends Effect.Service<AgentCache>()("AgentCache", {
  scoped: Effect.gen(function*() {
    const notifications = yield* Notifications
    const shelves: Array<Shelf> = []
    const counters = { hits: 0, misses: 0, evictions: 0 }
    let generation = 0

    const evict = (tenantId: string) => {
      generation++
      counters.evictions++
      for (const shelf of shelves) shelf.dropTenant(tenantId)
    }
    const evictAll = () => {
      generation++
      counters.evictions++
      for (const shelf of shelves) shelf.clear()
    }

    for (const channel of [AGENT_CACHE_CHANNEL, TENANT_CACHE_CHANNEL]) {
      yield* notifications.on(channel, (event) =>
        event._tag === "Resync" || event.payload === "*" ? evictAll() : evict(event.payload)
      )
    }

    /** A memo of values of type A per (tenant, key); `through` reads it or loads and stores. */
    const shelf = <A>() => {
      const byTenant = new Map<string, Map<string, A>>()
      shelves.push({ dropTenant: (tenantId) => byTenant.delete(tenantId), clear: () => byTenant.clear() })
      /** The stored value as plain code (a hit counted), or undefined: a miss for `through` to load. */
      const peek = (tenantId: string, key: string): A | undefined => {
        const hit = byTenant.get(tenantId)?.get(key)
        if (hit !== undefined) counters.hits++
        return hit
      }
      const through = <E, R>(tenantId: string, key: string, load: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
        Effect.suspend(() => {
          const hit = peek(tenantId, key)
          if (hit !== undefined) return Effect.succeed(hit)
          counters.misses++
          const startedAt = generation
          return Effect.tap(load, (value) => {
            if (generation !== startedAt) return
            let keys = byTenant.get(tenantId)
            if (keys === undefined) byTenant.set(tenantId, keys = new Map())
            if (keys.size >= MAX_KEYS_PER_TENANT) keys.clear()
            keys.set(key, value)
          })
        })
      return Object.assign(through, { peek })
    }

    return {
      shelf,
      /** After a local commit that changed the tenant's agents, versions, rollouts or routes. */
      evict: (tenantId: string) => Effect.sync(() => evict(tenantId)),
      metrics: Effect.sync(() => ({ ...counters }))
    } as const
  })
}) {}
