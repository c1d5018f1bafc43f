import { Clock, Effect, Option } from "effect"
import { ApiKeyNotFound, InvalidApiKeyLabel } from "./Errors.js"
import { Tenants } from "../Tenants/Tenants.js"
import { ApiKeysRepo } from "./Repo.js"
import { randomToken, sha256, sha256Hex } from "../Auth/Crypto.js"
import { Ids } from "../Ids.js"
import type { DatabaseUnavailable } from "../Database/Errors.js"
import { type AcceptedKey, ApiKeyCache } from "./KeyCache.js"

export const API_KEY_PREFIX = "ssv_"
/** How much of a key stays visible in listings: enough to recognise, far too little to use. */
const VISIBLE_PREFIX_LENGTH = API_KEY_PREFIX.length + 8
const MAX_LABEL_LENGTH = 200
/** `last_used_at` is a hint for humans; writing it more than once a minute per key is waste. */
const TOUCH_INTERVAL_MS = 60_000

/**
 * Generated tenant API keys. An accepted key is remembered per replica (ApiKeyCache) and
 * forgotten on every replica when its revocation commits (trigger + NOTIFY), so a revoked
 * key is refused everywhere within the notification's delivery time.
 */
export class ApiKeys extends Effect.Service<ApiKeys>()("ApiKeys", {
  effect: Effect.gen(function*() {
    const repo = yield* ApiKeysRepo
    const tenants = yield* Tenants
    const ids = yield* Ids
    const cache = yield* ApiKeyCache
    const lastTouched = new Map<string, number>()

    const create = Effect.fn("ApiKeys.create")(function*(tenantId: string, label: string | null) {
      if (label !== null && label.length > MAX_LABEL_LENGTH) {
        return yield* new InvalidApiKeyLabel({ message: `label must be at most ${MAX_LABEL_LENGTH} characters` })
      }
      yield* tenants.get(tenantId)
      const token = `${API_KEY_PREFIX}${randomToken(32)}`
      const metadata = yield* repo.insert({
        id: yield* ids.uuid,
        tenant_id: tenantId,
        key_prefix: token.slice(0, VISIBLE_PREFIX_LENGTH),
        key_sha256: sha256(token),
        label: label === null || label.trim() === "" ? null : label.trim()
      })
      return { token, metadata }
    })

    const list = Effect.fn("ApiKeys.list")(function*(tenantId: string) {
      yield* tenants.get(tenantId)
      return yield* repo.list(tenantId)
    })

    const revoke = Effect.fn("ApiKeys.revoke")(function*(tenantId: string, keyId: string) {
      const revoked = yield* repo.revoke(tenantId, keyId)
      if (Option.isNone(revoked)) return yield* new ApiKeyNotFound({ tenantId, keyId })
      yield* cache.forgetKeyId(revoked.value.id)
      return revoked.value
    })

    /** Records the key's use at most once a minute per key (`last_used_at`). */
    const touchIfDue = (key: AcceptedKey) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (now - (lastTouched.get(key.keyId) ?? 0) < TOUCH_INTERVAL_MS) return Effect.succeed(Option.some(key))
        lastTouched.set(key.keyId, now)
        return Effect.as(Effect.ignore(repo.touch(key.tenantId, key.keyId)), Option.some(key))
      })

    /**
     * The tenant and key id for an active key. On every request, so a memo hit is a hash, a
     * map read and a clock read; the span is on the database lookup of a miss.
     */
    const authenticate = (token: string): Effect.Effect<Option.Option<AcceptedKey>, DatabaseUnavailable> => {
      const hash = sha256(token)
      const load = Effect.map(repo.findActive(hash), (found): AcceptedKey | undefined =>
        Option.isNone(found) ? undefined : { tenantId: found.value.tenant_id, keyId: found.value.id }).pipe(
          Effect.withSpan("ApiKeys.authenticate", { captureStackTrace: false })
        )
      return Effect.flatMap(cache.through(hash.toString("hex"), load), (key) =>
        key === undefined ? Effect.succeed(Option.none()) : touchIfDue(key))
    }

    return {
      create,
      list,
      revoke,
      authenticate,
      /** Whether `recall` may answer now (read it in the same step as the call to `recall`). */
      memoUsable: cache.isCoherent,
      /**
       * `authenticate`'s answer as plain code when the key is remembered and its use needs no
       * `last_used_at` write at `now`, which is nearly every request; undefined otherwise
       * (`authenticate` decides, with the database if need be).
       */
      recall: (token: string, coherent: boolean, now: number): AcceptedKey | undefined => {
        const key = cache.recall(sha256Hex(token), coherent)
        return key !== undefined && now - (lastTouched.get(key.keyId) ?? 0) < TOUCH_INTERVAL_MS ? key : undefined
      }
    } as const
  }),
  dependencies: [ApiKeysRepo.Default, ApiKeyCache.Default]
}) {}
