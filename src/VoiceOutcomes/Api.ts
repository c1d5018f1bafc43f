import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { TenantAuth } from "../Auth/Middleware.js"
import { ApiError } from "../Http/Errors.js"
import {
  AnyJson,
  Int,
  LimitParam,
  NonNegativeInt,
  OffsetParam,
  optionalNullable,
  Timestamp,
  Uuid
} from "../Http/Schemas.js"

export class VoiceOutcome extends Schema.Class<VoiceOutcome>("VoiceOutcome")({
  agent_name: optionalNullable(Schema.String),
  billable_sku: optionalNullable(Schema.String),
  billing_status: Schema.String,
  call_sid: optionalNullable(Schema.String),
  call_type: optionalNullable(Schema.String),
  created_at: Timestamp,
  customer_phone: optionalNullable(Schema.String),
  disposition: AnyJson,
  duration_seconds: optionalNullable(Int),
  escalated: Schema.Boolean,
  id: Uuid,
  metadata: AnyJson,
  occurred_at: Timestamp,
  org_id: optionalNullable(Schema.String),
  outcome_source: Schema.String,
  primary_intent: optionalNullable(Schema.String),
  resolution: Schema.String,
  risk_level: optionalNullable(Schema.String),
  stream_sid: Schema.String,
  tenant_id: Schema.String,
  updated_at: Timestamp
}) {}

export class VoiceOutcomeCount extends Schema.Class<VoiceOutcomeCount>("VoiceOutcomeCount")({
  count: Int,
  name: Schema.String
}) {}

export class VoiceOutcomeDetailResponse extends Schema.Class<VoiceOutcomeDetailResponse>("VoiceOutcomeDetailResponse")({
  ok: Schema.Boolean,
  outcome: VoiceOutcome,
  tenant: Schema.String
}) {}

export class VoiceOutcomeStats extends Schema.Class<VoiceOutcomeStats>("VoiceOutcomeStats")({
  avg_duration_seconds: optionalNullable(Schema.Number),
  billable: Int,
  billing_status_mix: Schema.Array(VoiceOutcomeCount),
  emitted: Int,
  escalated: Int,
  failed_billing: Int,
  not_billable: Int,
  pending_emit: Int,
  resolution_mix: Schema.Array(VoiceOutcomeCount),
  risk_mix: Schema.Array(VoiceOutcomeCount),
  sku_mix: Schema.Array(VoiceOutcomeCount),
  total: Int
}) {}

export class VoiceOutcomeStatsResponse extends Schema.Class<VoiceOutcomeStatsResponse>("VoiceOutcomeStatsResponse")({
  ok: Schema.Boolean,
  stats: VoiceOutcomeStats,
  tenant: Schema.String
}) {}

export class VoiceOutcomeTimeseriesPoint extends Schema.Class<VoiceOutcomeTimeseriesPoint>("VoiceOutcomeTimeseriesPoint")({
  avg_duration_seconds: optionalNullable(Schema.Number),
  billable: Int,
  bucket_start: Timestamp,
  escalated: Int,
  pending_emit: Int,
  total: Int
}) {}

export class VoiceOutcomeTimeseries extends Schema.Class<VoiceOutcomeTimeseries>("VoiceOutcomeTimeseries")({
  bucket: Schema.String,
  points: Schema.Array(VoiceOutcomeTimeseriesPoint),
  window: Schema.String
}) {}

export class VoiceOutcomeTimeseriesResponse extends Schema.Class<VoiceOutcomeTimeseriesResponse>("VoiceOutcomeTimeseriesResponse")({
  ok: Schema.Boolean,
  tenant: Schema.String,
  timeseries: VoiceOutcomeTimeseries
}) {}

export class VoiceOutcomesListResponse extends Schema.Class<VoiceOutcomesListResponse>("VoiceOutcomesListResponse")({
  count: NonNegativeInt,
  ok: Schema.Boolean,
  outcomes: Schema.Array(VoiceOutcome),
  tenant: Schema.String
}) {}

const WindowParam = Schema.optional(Schema.String).annotations({
  description: "Look-back window such as 1h, 24h, 7d or 30d (default 24h)"
})

/** The statistics' query: the look-back window. */
export const OutcomeStatsQuery = Schema.Struct({ window: WindowParam })
export type OutcomeStatsQuery = typeof OutcomeStatsQuery.Type

/** The series' query: the look-back window and the bucket width. */
export const OutcomeSeriesQuery = Schema.Struct({
  window: WindowParam,
  bucket: Schema.optional(Schema.String).annotations({
    description: "Bucket width such as 5m, 1h (hour) or 1d (day); default 1h"
  })
})
export type OutcomeSeriesQuery = typeof OutcomeSeriesQuery.Type

/** Canonical outcomes of the calling tenant's voice sessions: what happened and how it bills. */
export class VoiceOutcomesApi extends HttpApiGroup.make("voiceOutcomes")
  .add(
    HttpApiEndpoint.get("list", "/api/v1/voice-outcomes")
      .setUrlParams(Schema.Struct({
        resolution: Schema.optional(Schema.String),
        billing_status: Schema.optional(Schema.String),
        billable_sku: Schema.optional(Schema.String),
        call_type: Schema.optional(Schema.String),
        limit: Schema.optional(LimitParam(200)),
        offset: Schema.optional(OffsetParam)
      }))
      .addSuccess(VoiceOutcomesListResponse)
      .addError(ApiError.BadRequest)
      .annotate(OpenApi.Identifier, "list_voice_outcomes")
  )
  .add(
    HttpApiEndpoint.get("stats", "/api/v1/voice-outcomes/stats")
      .setUrlParams(OutcomeStatsQuery)
      .addSuccess(VoiceOutcomeStatsResponse)
      .addError(ApiError.BadRequest)
      .annotate(OpenApi.Identifier, "get_voice_outcome_stats")
  )
  .add(
    HttpApiEndpoint.get("timeseries", "/api/v1/voice-outcomes/timeseries")
      .setUrlParams(OutcomeSeriesQuery)
      .addSuccess(VoiceOutcomeTimeseriesResponse)
      .addError(ApiError.BadRequest)
      .annotate(OpenApi.Identifier, "get_voice_outcome_timeseries")
  )
  .add(
    HttpApiEndpoint.get("byStream", "/api/v1/voice-outcomes/by-stream/:stream_sid")
      .setPath(Schema.Struct({ stream_sid: Schema.String.annotations({ description: "Twilio media stream SID" }) }))
      .addSuccess(VoiceOutcomeDetailResponse)
      .addError(ApiError.NotFound)
      .annotate(OpenApi.Identifier, "get_voice_outcome_by_stream")
  )
  .add(
    HttpApiEndpoint.get("get", "/api/v1/voice-outcomes/:id")
      .setPath(Schema.Struct({ id: Uuid.annotations({ description: "Canonical voice outcome id" }) }))
      .addSuccess(VoiceOutcomeDetailResponse)
      .addError(ApiError.BadRequest)
      .addError(ApiError.NotFound)
      .annotate(OpenApi.Identifier, "get_voice_outcome")
  )
  .addError(ApiError.Unavailable)
  .middleware(TenantAuth)
  .annotate(OpenApi.Title, "voice_sessions")
{}
