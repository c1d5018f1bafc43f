import { Clock, Effect } from "effect"
import { Notifications } from "../Database/Notifications.js"
import { PHONE_ROUTES_CHANNEL } from "../PhoneRoutes/PhoneNumberRoutes.js"
import { TENANT_CACHE_CHANNEL } from "../TenantCache/TenantCache.js"

/** Payload "*" clears every replica's hints; a tenant id drops that tenant's hints (e.g. after a route change). */
export const HINT_CACHE_CHANNEL = "twilio_hint_cache"

export const HINT_TTL_SECS = 60
export const HINT_MAX_ENTRIES = 10_000

/** What an earlier webhook from (AccountSid, number) resolved to. */
export interface Hint {
  readonly tenantId: string
  /** Fingerprint of the auth token that verified it: a rotated token makes the hint stale. */
  readonly tokenFingerprint: string
  readonly agentId: string | null
  readonly pinnedVersionId: string | null
  readonly greeting: string | null
}

interface Entry {
  readonly hint: Hint
  readonly expiresAt: number
}

export type HintLookup =
  | { readonly _tag: "Miss" }
  | { readonly _tag: "Expired" }
  | { readonly _tag: "Found"; readonly hint: Hint }

const keyOf = (accountSid: string, number: string) => `${accountSid}\u0000${number}`

/**
 * Per-replica cache of webhook tenant resolutions keyed by (AccountSid, called number),
 * with a TTL. Every replica drops a tenant's hints when the tenant changes (the tenant
 * cache channel) or when told on its own channel; "*" (admin cache clear) and any phone
 * route change drop all.
 */
export class HintCache extends Effect.Service<HintCache>()("HintCache", {
  scoped: Effect.gen(function*() {
    const notifications = yield* Notifications
    const entries = new Map<string, Entry>()

    const dropTenant = (tenantId: string) => {
      for (const [key, entry] of entries) if (entry.hint.tenantId === tenantId) entries.delete(key)
    }
    const clear = () => {
      const removed = entries.size
      entries.clear()
      return removed
    }

    // A route change may re-home a number a hint resolved some other way: drop them all.
    yield* notifications.on(PHONE_ROUTES_CHANNEL, clear)
    for (const channel of [TENANT_CACHE_CHANNEL, HINT_CACHE_CHANNEL]) {
      yield* notifications.on(channel, (event) => {
        if (event._tag === "Resync" || event.payload === "*") clear()
        else dropTenant(event.payload)
      })
    }

    const lookup = (accountSid: string, number: string) =>
      Effect.map(Clock.currentTimeMillis, (now): HintLookup => {
        const key = keyOf(accountSid, number)
        const entry = entries.get(key)
        if (entry === undefined) return { _tag: "Miss" }
        if (entry.expiresAt <= now) {
          entries.delete(key)
          return { _tag: "Expired" }
        }
        return { _tag: "Found", hint: entry.hint }
      })

    /** `lookup`'s Found as plain code, at `now`: undefined on a miss or an expired entry (left for `lookup` to count and drop). */
    const peek = (accountSid: string, number: string, now: number): Hint | undefined => {
      const entry = entries.get(keyOf(accountSid, number))
      return entry === undefined || entry.expiresAt <= now ? undefined : entry.hint
    }

    const remember = (accountSid: string, number: string, hint: Hint) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const key = keyOf(accountSid, number)
        entries.delete(key)
        // Oldest insertion first: a full cache forgets the entry written longest ago.
        if (entries.size >= HINT_MAX_ENTRIES) {
          const oldest = entries.keys().next()
          if (oldest.done !== true) entries.delete(oldest.value)
        }
        entries.set(key, { hint, expiresAt: now + HINT_TTL_SECS * 1000 })
      })

    return {
      lookup,
      peek,
      remember,
      forget: (accountSid: string, number: string) => Effect.sync(() => void entries.delete(keyOf(accountSid, number))),
      /** Clears this replica's hints and tells the others to clear theirs; returns how many were removed here. */
      clearEverywhere: Effect.zipLeft(Effect.sync(clear), notifications.notify(HINT_CACHE_CHANNEL, "*")),
      stats: Effect.sync(() => ({ entries: entries.size, maxEntries: HINT_MAX_ENTRIES, ttlSecs: HINT_TTL_SECS }))
    } as const
  })
}) {}
