import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { AdminAuthTransportDiagnostics } from "../Auth/Api.js"
import { AdminAuth } from "../Auth/Middleware.js"
import { BooleanFromQuery, NonNegativeInt, NonNegativeIntFromQuery, optionalNullable } from "../Http/Schemas.js"

export class AdminCachedTenantItem extends Schema.Class<AdminCachedTenantItem>("AdminCachedTenantItem")({
  active_sessions: NonNegativeInt,
  audio_output_provider: Schema.String,
  elevenlabs_configured: Schema.Boolean,
  elevenlabs_ready: Schema.Boolean,
  kafka_configured: Schema.Boolean,
  log_subscribers: NonNegativeInt,
  org_id: optionalNullable(Schema.String),
  tenant_id: Schema.String,
  twilio_configured: Schema.Boolean
}) {}

export class AdminCachedTenantsResponse extends Schema.Class<AdminCachedTenantsResponse>("AdminCachedTenantsResponse")({
  count: NonNegativeInt,
  ok: Schema.Boolean,
  tenants: Schema.Array(AdminCachedTenantItem)
}) {}

export class AdminEvictIdleResponse extends Schema.Class<AdminEvictIdleResponse>("AdminEvictIdleResponse")({
  evicted: NonNegativeInt,
  ok: Schema.Boolean,
  remaining: NonNegativeInt
}) {}

export class AdminReloadCachedFailure extends Schema.Class<AdminReloadCachedFailure>("AdminReloadCachedFailure")({
  error: Schema.String,
  tenant_id: Schema.String
}) {}

export class AdminReloadCachedTenantsResponse extends Schema.Class<AdminReloadCachedTenantsResponse>("AdminReloadCachedTenantsResponse")({
  attempted: NonNegativeInt,
  failures: Schema.Array(AdminReloadCachedFailure),
  ok: Schema.Boolean,
  reloaded: NonNegativeInt
}) {}

export class AdminTenantCacheMetricsResponse extends Schema.Class<AdminTenantCacheMetricsResponse>("AdminTenantCacheMetricsResponse")({
  auth_transport: AdminAuthTransportDiagnostics,
  cache_entries: NonNegativeInt,
  evictions: NonNegativeInt,
  hits: NonNegativeInt,
  misses: NonNegativeInt,
  ok: Schema.Boolean,
  reloads: NonNegativeInt
}) {}

export class AdminTenantTokenCacheMetricsItem extends Schema.Class<AdminTenantTokenCacheMetricsItem>("AdminTenantTokenCacheMetricsItem")({
  cache_key: Schema.String,
  cache_present: Schema.Boolean,
  evictions: NonNegativeInt,
  hits: NonNegativeInt,
  misses: NonNegativeInt,
  reloads: NonNegativeInt,
  tenant_id: optionalNullable(Schema.String)
}) {}

export class AdminTenantTokenCacheMetricsResponse extends Schema.Class<AdminTenantTokenCacheMetricsResponse>("AdminTenantTokenCacheMetricsResponse")({
  count: NonNegativeInt,
  items: Schema.Array(AdminTenantTokenCacheMetricsItem),
  ok: Schema.Boolean
}) {}

export class AdminAudioProviderDiagnosticsItem extends Schema.Class<AdminAudioProviderDiagnosticsItem>("AdminAudioProviderDiagnosticsItem")({
  active_sessions: NonNegativeInt,
  cached: Schema.Boolean,
  configured_provider: Schema.String,
  effective_provider: Schema.String,
  elevenlabs_configured: Schema.Boolean,
  elevenlabs_ready: Schema.Boolean,
  fallback_active: Schema.Boolean,
  fallback_reason: optionalNullable(Schema.String),
  tenant_id: Schema.String
}) {}

export class AdminAudioProviderDiagnosticsResponse extends Schema.Class<AdminAudioProviderDiagnosticsResponse>("AdminAudioProviderDiagnosticsResponse")({
  cached_tenants: NonNegativeInt,
  configured_elevenlabs: NonNegativeInt,
  configured_openai: NonNegativeInt,
  count: NonNegativeInt,
  effective_elevenlabs: NonNegativeInt,
  effective_openai: NonNegativeInt,
  evaluated_tenants: NonNegativeInt,
  fallback_active: NonNegativeInt,
  fallback_not_configured: NonNegativeInt,
  fallback_unavailable: NonNegativeInt,
  include_uncached_requested: Schema.Boolean,
  items: Schema.Array(AdminAudioProviderDiagnosticsItem),
  ok: Schema.Boolean,
  uncached_scan_supported: Schema.Boolean,
  uncached_tenants: NonNegativeInt
}) {}

/** This replica's tenant cache: what it holds, how it performs, and manual eviction/reload. */
export class TenantCacheApi extends HttpApiGroup.make("tenantCache")
  .add(
    HttpApiEndpoint.get("cached", "/api/v1/admin/tenants/cached")
      .addSuccess(AdminCachedTenantsResponse)
      .annotate(OpenApi.Identifier, "list_cached_tenants")
  )
  .add(
    HttpApiEndpoint.post("evictIdle", "/api/v1/admin/tenants/evict-idle")
      .setUrlParams(Schema.Struct({
        max_idle_secs: Schema.optional(NonNegativeIntFromQuery.annotations({ jsonSchema: { type: "integer", format: "int64", minimum: 0 } })).annotations({
          description: "Evict tenants that have been idle for more than this many seconds."
        })
      }))
      .addSuccess(AdminEvictIdleResponse)
      .annotate(OpenApi.Identifier, "evict_idle_tenants")
  )
  .add(
    HttpApiEndpoint.post("reloadCached", "/api/v1/admin/tenants/reload-cached")
      .addSuccess(AdminReloadCachedTenantsResponse)
      .annotate(OpenApi.Identifier, "reload_cached_tenants")
  )
  .add(
    HttpApiEndpoint.get("metrics", "/api/v1/admin/tenants/cache-metrics")
      .addSuccess(AdminTenantCacheMetricsResponse)
      .annotate(OpenApi.Identifier, "get_cache_metrics")
  )
  .add(
    HttpApiEndpoint.get("metricsByToken", "/api/v1/admin/tenants/cache-metrics/by-token")
      .setUrlParams(Schema.Struct({
        limit: Schema.optional(NonNegativeIntFromQuery).annotations({
          description: "Maximum number of token metrics entries to return."
        })
      }))
      .addSuccess(AdminTenantTokenCacheMetricsResponse)
      .annotate(OpenApi.Identifier, "get_cache_metrics_by_token")
  )
  .add(
    HttpApiEndpoint.get("audioProviders", "/api/v1/admin/tenants/audio-providers")
      .setUrlParams(Schema.Struct({
        limit: Schema.optional(NonNegativeIntFromQuery).annotations({
          description: "Maximum number of diagnostics rows to return."
        }),
        include_uncached: Schema.optional(BooleanFromQuery).annotations({
          description: "Include tenant configs from the backing store even when not currently cached."
        })
      }))
      .addSuccess(AdminAudioProviderDiagnosticsResponse)
      .annotate(OpenApi.Identifier, "get_audio_provider_diagnostics")
  )
  .middleware(AdminAuth)
  .annotate(OpenApi.Title, "admin")
{}
