import { Clock, Effect, Option } from "effect"
import { constantTimeBufferEquals, hmacSha256 } from "./Crypto.js"
import { ServiceSecrets } from "./ServiceSecrets.js"

export const DASHBOARD_TOKEN_PREFIX = "ssvd_"
const TTL_SECONDS = 60 * 60

/**
 * Short-lived tenant credentials minted for the admin voice dashboard, so the dashboard
 * never receives a tenant's long-lived secret: `ssvd_<tenant>.<expiry>.<hmac>`.
 */
export class DashboardTokens extends Effect.Service<DashboardTokens>()("DashboardTokens", {
  effect: Effect.gen(function*() {
    const secrets = yield* ServiceSecrets
    const key = secrets.get("dashboard_token")
    const sign = (payload: string) => Effect.map(key, (secret) => hmacSha256(secret, payload))

    return {
      mint: (tenantId: string) =>
        Effect.gen(function*() {
          const expires = Math.floor((yield* Clock.currentTimeMillis) / 1000) + TTL_SECONDS
          const payload = `${Buffer.from(tenantId).toString("base64url")}.${expires}`
          return `${DASHBOARD_TOKEN_PREFIX}${payload}.${(yield* sign(payload)).toString("base64url")}`
        }),
      /** The tenant id of a valid, unexpired token. */
      verify: (token: string) =>
        Effect.gen(function*() {
          const parts = token.slice(DASHBOARD_TOKEN_PREFIX.length).split(".")
          if (parts.length !== 3) return Option.none<string>()
          const [tenant, expires, signature] = parts as [string, string, string]
          const expected = yield* sign(`${tenant}.${expires}`)
          const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
          const valid = constantTimeBufferEquals(Buffer.from(signature, "base64url"), expected) &&
            Number(expires) > now
          return valid ? Option.some(Buffer.from(tenant, "base64url").toString()) : Option.none<string>()
        })
    } as const
  }),
  dependencies: [ServiceSecrets.Default]
}) {}
