import { Effect } from "effect"
import { Notifications } from "../Database/Notifications.js"

/** Channel on which a trigger announces a revoked or deleted key by its sha256 in hex (migration 0022). */
export const API_KEY_CACHE_CHANNEL = "api_key_cache"

/** Keys remembered per replica; the oldest is forgotten first. */
const MAX_KEYS = 10_000

export interface AcceptedKey {
  readonly tenantId: string
  readonly keyId: string
}

/**
 * Per-replica memo of accepted API keys (by sha256), so an authenticated request reads no
 * key row. A revocation commits a NOTIFY (trigger) that every replica hears and applies; while
 * this replica is not listening nothing is read from or written to the memo (every request
 * goes to PostgreSQL), and a reconnect drops it whole, so a revoked key is refused everywhere
 * within the notification's delivery time. Refusals are never remembered (unbounded input).
 */
export class ApiKeyCache extends Effect.Service<ApiKeyCache>()("ApiKeyCache", {
  scoped: Effect.gen(function*() {
    const notifications = yield* Notifications
    const accepted = new Map<string, AcceptedKey>()
    let generation = 0

    const forgetAll = () => {
      generation++
      accepted.clear()
    }
    yield* notifications.on(API_KEY_CACHE_CHANNEL, (event) => {
      if (event._tag === "Resync") return forgetAll()
      generation++
      accepted.delete(event.payload)
    })

    return {
      /** `load` answers a miss (PostgreSQL); an acceptance is kept unless an invalidation raced it. */
      through: <E, R>(hashHex: string, load: Effect.Effect<AcceptedKey | undefined, E, R>) =>
        Effect.flatMap(notifications.isListening, (listening) => {
          if (!listening) return load
          const hit = accepted.get(hashHex)
          if (hit !== undefined) return Effect.succeed<AcceptedKey | undefined>(hit)
          const startedAt = generation
          return Effect.tap(load, (key) => {
            if (key === undefined || generation !== startedAt) return
            if (accepted.size >= MAX_KEYS) {
              const oldest = accepted.keys().next()
              if (oldest.done !== true) accepted.delete(oldest.value)
            }
            accepted.set(hashHex, key)
          })
        }),
      /** Whether the memo may be read now (notifications are being received); `recall`'s guard. */
      isCoherent: notifications.isListening,
      /**
       * A remembered acceptance as plain code, for a caller that has just read `isCoherent` (a
       * memo hit on the hot path costs no Effect); undefined when not remembered (use `through`).
       */
      recall: (hashHex: string, coherent: boolean): AcceptedKey | undefined => coherent ? accepted.get(hashHex) : undefined,
      /** After a local revocation commits: this replica refuses the key without waiting for the echo. */
      forgetKeyId: (keyId: string) =>
        Effect.sync(() => {
          generation++
          for (const [hash, key] of accepted) if (key.keyId === keyId) accepted.delete(hash)
        }),
      size: Effect.sync(() => accepted.size)
    } as const
  })
}) {}
