import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Context, Effect, FiberRef, HashMap, Layer, Option, Redacted } from "effect"
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

type TenantAuthFailure = ApiUnauthorized | ApiRateLimited | ApiUnavailable

/**
 * Tenant bearer authentication, then the per-tenant rate limit, for the request in context.
 * HttpApi runs it as the `TenantAuth` middleware; the hot-read routes (Http/HotReads.ts) call
 * it directly.
 */
export class TenantAuthentication extends Context.Tag("TenantAuthentication")<TenantAuthentication, {
  readonly authenticate: Effect.Effect<CurrentTenant["Type"], TenantAuthFailure, HttpServerRequest.HttpServerRequest>
}>() {}

const TenantAuthenticationLive = Layer.effect(
  TenantAuthentication,
  Effect.gen(function*() {
    const config = yield* AppConfig
    const apiKeys = yield* ApiKeys
    const cache = yield* TenantCache
    const dashboardTokens = yield* DashboardTokens
    const limiter = yield* RateLimiter

    const resolve = (token: string): Effect.Effect<Option.Option<Resolved>, DatabaseUnavailable> =>
      token.startsWith(API_KEY_PREFIX)
        ? Effect.flatMap(apiKeys.authenticate(token), (key) =>
          Option.isNone(key)
            ? Effect.succeed(Option.none())
            : Effect.map(cache.get(key.value.tenantId), Option.map((tenant) => ({ tenant, credential: "api_key" as const }))))
        : resolveOther(token)

    const resolveOther = (token: string): Effect.Effect<Option.Option<Resolved>, DatabaseUnavailable> =>
      Effect.gen(function*() {
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

    const admit = (resolved: Option.Option<Resolved>): Effect.Effect<CurrentTenant["Type"], ApiUnauthorized | ApiRateLimited> =>
      Effect.flatMap(FiberRef.get(CurrentRequest), (context): Effect.Effect<CurrentTenant["Type"], ApiUnauthorized | ApiRateLimited> => {
        if (Option.isNone(resolved)) return unauthorized("Invalid or revoked credentials")
        const { credential, tenant } = resolved.value
        // The JSON logger adds tenant_id to every later line of the request from its context
        // (Observability/JsonLog.ts); without an edge (no context) the fiber is annotated instead.
        const annotated = context !== undefined
          ? Effect.sync(() => {
            context.tenantId = tenant.tenantId
          })
          : FiberRef.update(FiberRef.currentLogAnnotations, HashMap.set("tenant_id", tenant.tenantId as unknown))
        return annotated.pipe(
          Effect.zipRight(Effect.annotateCurrentSpan("tenant.id", tenant.tenantId)),
          Effect.zipRight(limiter.hit(`tenant:${tenant.tenantId}`, config.rateLimitPerTenantPerMinute)),
          Effect.flatMap((decision): Effect.Effect<CurrentTenant["Type"], ApiRateLimited> => {
            if (!decision.allowed) {
              if (context !== undefined) context.retryAfterSeconds = decision.retryAfterSeconds
              return Effect.fail(new ApiRateLimited({ message: "Tenant rate limit exceeded" }))
            }
            return Effect.succeed(CurrentTenant.of({
              tenantId: tenant.tenantId,
              orgId: tenant.config.org_id ?? null,
              config: tenant.config,
              credential
            }))
          })
        )
      })

    return {
      // Every tenant request runs this: plain combinators, not a generator per step.
      authenticate:
        Effect.flatMap(HttpServerRequest.HttpServerRequest, (request): Effect.Effect<CurrentTenant["Type"], ApiUnauthorized | ApiRateLimited | DatabaseUnavailable> => {
          const header = request.headers.authorization
          if (header === undefined || header.trim() === "") return unauthorized("Missing bearer token")
          const token = BEARER.exec(header)?.[1]
          if (token === undefined) return unauthorized("Authorization header must be 'Bearer <token>'")
          return Effect.flatMap(resolve(token), admit)
        }).pipe(
          Effect.catchTag("DatabaseUnavailable", () =>
            Effect.fail(new ApiUnavailable({ message: "Database unavailable; try again shortly" })))
        )
    }
  })
)

/** The `TenantAuth` middleware (it reads the header itself: a malformed one gets its own message). */
export const TenantAuthLive = Layer.effect(
  TenantAuth,
  Effect.map(TenantAuthentication, ({ authenticate }) => ({ bearer_auth: () => authenticate }))
).pipe(Layer.provideMerge(TenantAuthenticationLive))
