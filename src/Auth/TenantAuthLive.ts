import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Effect, FiberRef, HashMap, Layer, Option, Redacted } from "effect"
import { AppConfig } from "../Config.js"
import { ApiRateLimited, ApiUnauthorized, ApiUnavailable } from "../Http/Errors.js"
import { CurrentRequest } from "../Http/RequestContext.js"
import { type CachedTenant, TenantCache } from "../TenantCache/TenantCache.js"
import type { DatabaseUnavailable } from "../Database/Errors.js"
import { API_KEY_PREFIX, ApiKeys } from "../ApiKeys/ApiKeys.js"
import { DASHBOARD_TOKEN_PREFIX, DashboardTokens } from "./DashboardTokens.js"
import { constantTimeEquals } from "./Crypto.js"
import { CurrentTenant, TenantAuth } from "./Middleware.js"
import { RateLimiter } from "./RateLimit.js"

const BEARER = /^Bearer[ ]+(\S+)\s*$/i

const unauthorized = (message: string) => Effect.fail(new ApiUnauthorized({ message }))

interface Resolved {
  readonly tenant: CachedTenant
  readonly credential: CurrentTenant["Type"]["credential"]
}

/** Tenant bearer authentication, then the per-tenant rate limit. */
export const TenantAuthLive = Layer.effect(
  TenantAuth,
  Effect.gen(function*() {
    const config = yield* AppConfig
    const apiKeys = yield* ApiKeys
    const cache = yield* TenantCache
    const dashboardTokens = yield* DashboardTokens
    const limiter = yield* RateLimiter

    const resolve = (token: string): Effect.Effect<Option.Option<Resolved>, DatabaseUnavailable> =>
      Effect.gen(function*() {
        if (token.startsWith(API_KEY_PREFIX)) {
          const key = yield* apiKeys.authenticate(token)
          if (Option.isNone(key)) return Option.none()
          return Option.map(yield* cache.get(key.value.tenantId), (tenant) => ({ tenant, credential: "api_key" as const }))
        }
        if (token.startsWith(DASHBOARD_TOKEN_PREFIX)) {
          const tenantId = yield* dashboardTokens.verify(token)
          if (Option.isNone(tenantId)) return Option.none()
          return Option.map(yield* cache.get(tenantId.value), (tenant) => ({ tenant, credential: "dashboard_token" as const }))
        }
        if (!config.legacyTenantBearerAuthEnabled) return Option.none()
        const tenant = yield* cache.findByAuthToken(token)
        // The index lookup found it by hash; compare the secrets themselves as well, in constant time.
        return Option.filterMap(tenant, (found) => {
          const stored = found.config.auth_token
          return stored !== undefined && constantTimeEquals(Redacted.value(stored), token)
            ? Option.some({ tenant: found, credential: "legacy_token" as const })
            : Option.none()
        })
      })

    return {
      bearer_auth: () =>
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          const header = request.headers.authorization
          if (header === undefined || header.trim() === "") return yield* unauthorized("Missing bearer token")
          const token = BEARER.exec(header)?.[1]
          if (token === undefined) return yield* unauthorized("Authorization header must be 'Bearer <token>'")
          const resolved = yield* resolve(token)
          if (Option.isNone(resolved)) return yield* unauthorized("Invalid or revoked credentials")
          const { credential, tenant } = resolved.value

          const context = yield* FiberRef.get(CurrentRequest)
          if (context !== undefined) context.tenantId = tenant.tenantId
          yield* FiberRef.update(FiberRef.currentLogAnnotations, HashMap.set("tenant_id", tenant.tenantId as unknown))
          yield* Effect.annotateCurrentSpan("tenant.id", tenant.tenantId)

          const decision = yield* limiter.hit(`tenant:${tenant.tenantId}`, config.rateLimitPerTenantPerMinute)
          if (!decision.allowed) {
            if (context !== undefined) context.retryAfterSeconds = decision.retryAfterSeconds
            return yield* new ApiRateLimited({ message: "Tenant rate limit exceeded" })
          }
          return CurrentTenant.of({
            tenantId: tenant.tenantId,
            orgId: tenant.config.org_id ?? null,
            config: tenant.config,
            credential
          })
        }).pipe(
          Effect.catchTag("DatabaseUnavailable", () =>
            Effect.fail(new ApiUnavailable({ message: "Database unavailable; try again shortly" })))
        )
    }
  })
)
