import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Array as Arr, Effect } from "effect"
import { Api } from "../Api.js"
import { transportDiagnostics } from "../Auth/TransportDiagnostics.js"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"
import { AppConfig } from "../Config.js"
import { asAdminErrors } from "../Http/ErrorMapping.js"
import {
  AdminAudioProviderDiagnosticsItem,
  AdminAudioProviderDiagnosticsResponse,
  AdminCachedTenantItem,
  AdminCachedTenantsResponse,
  AdminEvictIdleResponse,
  AdminReloadCachedFailure,
  AdminReloadCachedTenantsResponse,
  AdminTenantCacheMetricsResponse,
  AdminTenantTokenCacheMetricsItem,
  AdminTenantTokenCacheMetricsResponse
} from "./Api.js"
import { runnableTenant } from "../Tenants/Domain.js"
import { twilioConfigured } from "../Tenants/Runtime.js"
import { AudioProviders } from "../Voices/AudioProviders.js"
import { TenantCache } from "./TenantCache.js"
import { Tenants } from "../Tenants/Tenants.js"

const DEFAULT_MAX_IDLE_SECS = 3600
const UNCACHED_SCAN_LIMIT = 1000

export const TenantCacheHttp = HttpApiBuilder.group(Api, "tenantCache", (handlers) =>
  Effect.gen(function*() {
    const cache = yield* TenantCache
    const tenants = yield* Tenants
    const liveCalls = yield* LiveCalls
    const platform = yield* AppConfig
    const audioProviders = yield* AudioProviders

    return handlers
      .handle("cached", () =>
        Effect.gen(function*() {
          const cached = yield* cache.cachedTenants
          const items = yield* Effect.forEach(cached, (tenant) =>
            Effect.map(Effect.zip(liveCalls.countForTenant(tenant.tenantId), audioProviders.state(tenant.tenantId, tenant.config)), ([active, audio]) => {
              return new AdminCachedTenantItem({
                tenant_id: tenant.tenantId,
                org_id: tenant.config.org_id ?? null,
                active_sessions: active,
                audio_output_provider: audio.effective,
                elevenlabs_configured: audio.elevenlabsConfigured,
                elevenlabs_ready: audio.elevenlabsReady,
                kafka_configured: Object.keys(tenant.config.kafka ?? {}).length > 0,
                log_subscribers: 0,
                twilio_configured: twilioConfigured(tenant.config, platform)
              })
            }))
          return new AdminCachedTenantsResponse({ ok: true, count: items.length, tenants: items })
        }))
      .handle("evictIdle", ({ urlParams }) =>
        Effect.map(
          cache.evictIdle((urlParams.max_idle_secs ?? DEFAULT_MAX_IDLE_SECS) * 1000),
          ([evicted, remaining]) => new AdminEvictIdleResponse({ ok: true, evicted, remaining })
        ))
      .handle("reloadCached", () =>
        Effect.gen(function*() {
          const ids = yield* cache.cachedTenantIds
          const results = yield* Effect.forEach(ids, (tenantId) =>
            cache.reload(tenantId).pipe(
              Effect.map((found) => found._tag === "Some" ? undefined : { tenantId, error: "tenant no longer exists" }),
              Effect.catchTags({
                DatabaseUnavailable: (error) => Effect.succeed({ tenantId, error: error.message }),
                TenantConfigUnreadable: (error) => Effect.succeed({ tenantId, error: error.message })
              })
            ))
          const failures = results.flatMap((failure) =>
            failure === undefined ? [] : [new AdminReloadCachedFailure({ tenant_id: failure.tenantId, error: failure.error })]
          )
          return new AdminReloadCachedTenantsResponse({
            ok: true,
            attempted: ids.length,
            reloaded: ids.length - failures.length,
            failures
          })
        }))
      .handle("metrics", () =>
        Effect.map(cache.metrics, (metrics) =>
          new AdminTenantCacheMetricsResponse({
            ok: true,
            cache_entries: metrics.entries,
            hits: metrics.hits,
            misses: metrics.misses,
            evictions: metrics.evictions,
            reloads: metrics.reloads,
            auth_transport: transportDiagnostics(platform)
          })))
      .handle("metricsByToken", ({ urlParams }) =>
        Effect.map(cache.tokenMetrics, (metrics) => {
          const items = metrics
            .sort((a, b) => b.hits + b.misses - (a.hits + a.misses))
            .slice(0, urlParams.limit ?? 100)
            .map((m) =>
              new AdminTenantTokenCacheMetricsItem({
                cache_key: m.cacheKey,
                cache_present: m.cachePresent,
                tenant_id: m.tenantId ?? null,
                hits: m.hits,
                misses: m.misses,
                reloads: m.reloads,
                evictions: m.evictions
              })
            )
          return new AdminTenantTokenCacheMetricsResponse({ ok: true, count: items.length, items })
        }))
      .handle("audioProviders", ({ urlParams }) =>
        Effect.gen(function*() {
          const cached = yield* cache.cachedTenants
          const cachedIds = new Set(cached.map((t) => t.tenantId))
          const includeUncached = urlParams.include_uncached ?? false
          // Tenants out of service (a document that no longer decodes) have no provider to report.
          const uncached = includeUncached
            ? Arr.getRights((yield* tenants.list(UNCACHED_SCAN_LIMIT, 0)).tenants
              .filter((t) => !cachedIds.has(t.tenantId))
              .map(runnableTenant))
            : []
          const evaluated = [...cached.map((t) => ({ ...t, cached: true })), ...uncached.map((t) => ({ ...t, cached: false }))]
          // Reachability checks are cached per key; a cold cache checks a few keys at a time.
          const items = yield* Effect.forEach(evaluated, (tenant) =>
            Effect.map(Effect.zip(liveCalls.countForTenant(tenant.tenantId), audioProviders.state(tenant.tenantId, tenant.config)), ([active, audio]) => {
              return new AdminAudioProviderDiagnosticsItem({
                tenant_id: tenant.tenantId,
                cached: tenant.cached,
                active_sessions: active,
                configured_provider: audio.configured,
                effective_provider: audio.effective,
                elevenlabs_configured: audio.elevenlabsConfigured,
                elevenlabs_ready: audio.elevenlabsReady,
                fallback_active: audio.fallbackReason !== null,
                fallback_reason: audio.fallbackReason
              })
            }), { concurrency: 8 })
          const count = (predicate: (item: AdminAudioProviderDiagnosticsItem) => boolean) => items.filter(predicate).length
          return new AdminAudioProviderDiagnosticsResponse({
            ok: true,
            include_uncached_requested: includeUncached,
            uncached_scan_supported: true,
            cached_tenants: cached.length,
            uncached_tenants: uncached.length,
            evaluated_tenants: items.length,
            configured_openai: count((i) => i.configured_provider === "openai"),
            configured_elevenlabs: count((i) => i.configured_provider === "elevenlabs"),
            effective_openai: count((i) => i.effective_provider === "openai"),
            effective_elevenlabs: count((i) => i.effective_provider === "elevenlabs"),
            fallback_active: count((i) => i.fallback_active),
            fallback_not_configured: count((i) => i.fallback_reason === "elevenlabs_not_configured"),
            fallback_unavailable: count((i) => i.fallback_reason === "elevenlabs_unavailable"),
            count: Math.min(items.length, urlParams.limit ?? items.length),
            items: items.slice(0, urlParams.limit ?? items.length)
          })
        }).pipe(asAdminErrors))
  }))
