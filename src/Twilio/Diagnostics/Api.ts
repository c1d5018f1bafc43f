import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { AdminAuth } from "../../Auth/Middleware.js"
import { AdminError } from "../../Http/Errors.js"
import { BooleanFromQuery, NonNegativeInt } from "../../Http/Schemas.js"

export class AdminTwilioWebhookHintCacheDiagnostics
  extends Schema.Class<AdminTwilioWebhookHintCacheDiagnostics>("AdminTwilioWebhookHintCacheDiagnostics")({
    entries: NonNegativeInt,
    max_entries: NonNegativeInt,
    ttl_secs: NonNegativeInt
  })
{}

export class AdminTwilioWebhookResolutionDiagnostics
  extends Schema.Class<AdminTwilioWebhookResolutionDiagnostics>("AdminTwilioWebhookResolutionDiagnostics")({
    explicit_token_invalid: NonNegativeInt,
    explicit_token_success: NonNegativeInt,
    failures_total: NonNegativeInt,
    hint_cache_expired: NonNegativeInt,
    hint_cache_hit_rate: Schema.Number,
    hint_cache_hits: NonNegativeInt,
    hint_cache_lookups: NonNegativeInt,
    hint_cache_misses: NonNegativeInt,
    hint_cache_signature_mismatch: NonNegativeInt,
    hint_cache_stale_token: NonNegativeInt,
    requests_total: NonNegativeInt,
    signature_lookup_candidates_evaluated_total: NonNegativeInt,
    signature_lookup_not_found: NonNegativeInt,
    signature_lookup_success: NonNegativeInt,
    signature_lookup_tenant_load_error: NonNegativeInt,
    success_rate: Schema.Number,
    successes_total: NonNegativeInt
  })
{}

export class AdminTwilioWebhookDiagnosticsResponse
  extends Schema.Class<AdminTwilioWebhookDiagnosticsResponse>("AdminTwilioWebhookDiagnosticsResponse")({
    hint_cache: AdminTwilioWebhookHintCacheDiagnostics,
    ok: Schema.Boolean,
    resolution: AdminTwilioWebhookResolutionDiagnostics
  })
{}

export class AdminTwilioWebhookCacheClearResponse
  extends Schema.Class<AdminTwilioWebhookCacheClearResponse>("AdminTwilioWebhookCacheClearResponse")({
    hint_cache: AdminTwilioWebhookHintCacheDiagnostics,
    ok: Schema.Boolean,
    removed_entries: NonNegativeInt
  })
{}

export class AdminTwilioWebhookResetCountersResponse
  extends Schema.Class<AdminTwilioWebhookResetCountersResponse>("AdminTwilioWebhookResetCountersResponse")({
    cleared_hint_cache: Schema.Boolean,
    hint_cache: AdminTwilioWebhookHintCacheDiagnostics,
    ok: Schema.Boolean,
    removed_hint_cache_entries: NonNegativeInt,
    resolution: AdminTwilioWebhookResolutionDiagnostics
  })
{}

/** How this replica resolves Twilio webhooks to tenants; clearing the hint cache reaches every replica. */
export class TwilioWebhookDiagnosticsApi extends HttpApiGroup.make("twilioWebhookDiagnostics")
  .add(
    HttpApiEndpoint.get("get", "/api/v1/admin/twilio/webhook-diagnostics")
      .addSuccess(AdminTwilioWebhookDiagnosticsResponse)
      .annotate(OpenApi.Identifier, "get_twilio_webhook_diagnostics")
  )
  .add(
    HttpApiEndpoint.post("clearCache", "/api/v1/admin/twilio/webhook-diagnostics/cache/clear")
      .addSuccess(AdminTwilioWebhookCacheClearResponse)
      .annotate(OpenApi.Identifier, "clear_twilio_webhook_hint_cache_admin")
  )
  .add(
    HttpApiEndpoint.post("resetCounters", "/api/v1/admin/twilio/webhook-diagnostics/counters/reset")
      .setUrlParams(Schema.Struct({
        clear_hint_cache: Schema.optional(BooleanFromQuery).annotations({
          description: "If true, also clears all hint-cache entries while resetting counters."
        })
      }))
      .addSuccess(AdminTwilioWebhookResetCountersResponse)
      .annotate(OpenApi.Identifier, "reset_twilio_webhook_diagnostics_admin")
  )
  .addError(AdminError.Unavailable)
  .middleware(AdminAuth)
  .annotate(OpenApi.Title, "admin")
{}
