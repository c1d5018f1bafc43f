import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Clock, Context, Effect, type Fiber, FiberRef, HashMap, Layer, Option, Redacted } from "effect"
import { AppConfig } from "../Config.js"
import { ApiRateLimited, ApiUnauthorized, ApiUnavailable } from "../Http/Errors.js"
import { CurrentRequest, type RequestContext } from "../Http/RequestContext.js"
import { type CachedTenant, TenantCache } from "../TenantCache/TenantCache.js"
import type { DatabaseUnavailable } from "../Database/Errors.js"
import { API_KEY_PREFIX, ApiKeys } from "../ApiKeys/ApiKeys.js"
import { DASHBOARD_TOKEN_PREFIX, DashboardTokens } from "./DashboardTokens.js"
import { constantTimeEquals } from "./Crypto.js"
import { CurrentTenant, TenantAuth } from "./Middleware.js"
import { type RateLimitDecision, RateLimiter } from "./RateLimit.js"
import { annotateCurrentSpanOf } from "../Observability/Spans.js"

const BEARER = /^Bearer[ ]+(\S+)\s*$/i

const unauthorized = (message: string) => Effect.fail(new ApiUnauthorized({ message }))

/** The fiber's clock (a TestClock in tests), read as plain code. */
const nowOf = (fiber: Fiber.RuntimeFiber<unknown, unknown>) =>
  Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeMillis()

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
        return legacyMatch(tenant, token)
      })

    /** The index lookup found it by hash; compare the secrets themselves as well, in constant time. */
    const legacyMatch = (tenant: Option.Option<CachedTenant>, token: string): Option.Option<Resolved> =>
      Option.filterMap(tenant, (found) => {
        const stored = found.config.auth_token
        return stored !== undefined && constantTimeEquals(Redacted.value(stored), token)
          ? Option.some({ tenant: found, credential: "legacy_token" as const })
          : Option.none()
      })

    /** The tenant's rate limit: plain code while its lease lasts. */
    const limited = (context: RequestContext | undefined, admitted: CurrentTenant["Type"], now: number) => {
      const decide = (decision: RateLimitDecision): Effect.Effect<CurrentTenant["Type"], ApiRateLimited> => {
        if (decision.allowed) return Effect.succeed(admitted)
        if (context !== undefined) context.retryAfterSeconds = decision.retryAfterSeconds
        return Effect.fail(new ApiRateLimited({ message: "Tenant rate limit exceeded" }))
      }
      const bucket = `tenant:${admitted.tenantId}`
      const decision = limiter.tryHit(bucket, now)
      return decision !== undefined ? decide(decision) : Effect.flatMap(limiter.hit(bucket, config.rateLimitPerTenantPerMinute), decide)
    }

    /** The resolved tenant on the request's log lines and span, then its rate limit. */
    const admitResolved = (
      fiber: Fiber.RuntimeFiber<unknown, unknown>,
      resolved: Option.Option<Resolved>,
      now: number
    ): Effect.Effect<CurrentTenant["Type"], ApiUnauthorized | ApiRateLimited> => {
      if (Option.isNone(resolved)) return unauthorized("Invalid or revoked credentials")
      const { credential, tenant } = resolved.value
      annotateCurrentSpanOf(fiber, "tenant.id", tenant.tenantId)
      const admitted = CurrentTenant.of({
        tenantId: tenant.tenantId,
        orgId: tenant.config.org_id ?? null,
        config: tenant.config,
        credential
      })
      // The JSON logger adds tenant_id to every later line of the request from its context
      // (Observability/JsonLog.ts); without an edge (no context) the fiber is annotated instead.
      const context = fiber.getFiberRef(CurrentRequest)
      if (context !== undefined) {
        context.tenantId = tenant.tenantId
        return limited(context, admitted, now)
      }
      return Effect.zipRight(
        FiberRef.update(FiberRef.currentLogAnnotations, HashMap.set("tenant_id", tenant.tenantId as unknown)),
        limited(context, admitted, now)
      )
    }

    /** Any credential, through the caches and, on a miss, PostgreSQL. */
    const authenticateThrough = (token: string): Effect.Effect<CurrentTenant["Type"], TenantAuthFailure> =>
      Effect.flatMap(resolve(token), (resolved) =>
        Effect.withFiberRuntime<CurrentTenant["Type"], ApiUnauthorized | ApiRateLimited>((fiber) =>
          admitResolved(fiber, resolved, nowOf(fiber)))).pipe(
          Effect.catchTag("DatabaseUnavailable", () =>
            Effect.fail(new ApiUnavailable({ message: "Database unavailable; try again shortly" })))
        )

    return {
      // Every tenant request runs this. An API key the replica remembers (or a legacy token) of
      // a cached tenant, within its rate-limit lease (nearly every request) is decided as plain
      // code in a few Effect steps; anything else goes through `authenticateThrough`
      // (bench/RESULTS.md, "Edge and tenant authentication").
      authenticate: Effect.withFiberRuntime((fiber): Effect.Effect<CurrentTenant["Type"], TenantAuthFailure> => {
        const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
        const header = request.headers.authorization
        if (header === undefined || header.trim() === "") return unauthorized("Missing bearer token")
        const token = BEARER.exec(header)?.[1]
        if (token === undefined) return unauthorized("Authorization header must be 'Bearer <token>'")
        if (!token.startsWith(API_KEY_PREFIX)) {
          if (token.startsWith(DASHBOARD_TOKEN_PREFIX) || !config.legacyTenantBearerAuthEnabled) return authenticateThrough(token)
          const now = nowOf(fiber)
          const tenant = cache.recallByAuthToken(token, now)
          return tenant === undefined ? authenticateThrough(token) : admitResolved(fiber, legacyMatch(tenant, token), now)
        }
        return Effect.flatMap(apiKeys.memoUsable, (coherent) => {
          const now = nowOf(fiber)
          const key = apiKeys.recall(token, coherent, now)
          const tenant = key === undefined ? undefined : cache.recall(key.tenantId, now)
          if (tenant === undefined) return authenticateThrough(token)
          return admitResolved(fiber, Option.map(tenant, (found) => ({ tenant: found, credential: "api_key" as const })), now)
        })
      })
    }
  })
)

/** The `TenantAuth` middleware (it reads the header itself: a malformed one gets its own message). */
export const TenantAuthLive = Layer.effect(
  TenantAuth,
  Effect.map(TenantAuthentication, ({ authenticate }) => ({ bearer_auth: () => authenticate }))
).pipe(Layer.provideMerge(TenantAuthenticationLive))
