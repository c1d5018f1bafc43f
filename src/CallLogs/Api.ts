import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { TenantAuth } from "../Auth/Middleware.js"
import { ApiError } from "../Http/Errors.js"
import { BooleanFromQuery, IntFromQuery, LimitParam, OffsetParam, UuidPathId } from "../Http/Schemas.js"
import { CallLatencyResponse, CallLogDetailResponse, CallLogsListResponse, CallStatsResponse } from "./Schemas.js"

const described = <S extends Schema.Schema.Any>(schema: S, description: string) =>
  Schema.optional(schema).annotations({ description })

export const CallLogFilters = Schema.Struct({
  status: described(Schema.String, "Filter by call status"),
  outcome: described(Schema.String, "Filter by normalized terminal outcome: answered, voicemail, no_answer, busy, failed"),
  from_number: described(Schema.String, "Filter by caller phone number"),
  to_number: described(Schema.String, "Filter by called phone number"),
  direction: described(Schema.String, "Filter by call direction (inbound/outbound)"),
  escalated: described(BooleanFromQuery, "Filter by escalation status"),
  from_date: described(Schema.String, "Only calls after this ISO8601 datetime"),
  to_date: described(Schema.String, "Only calls before this ISO8601 datetime"),
  min_duration: described(IntFromQuery, "Minimum call duration in seconds"),
  max_duration: described(IntFromQuery, "Maximum call duration in seconds"),
  transcript_search: described(Schema.String, "Search transcript text (case-insensitive)"),
  call_sid: described(Schema.String, "Filter by Twilio call SID"),
  limit: described(LimitParam(100), "Maximum number of results (default 50, max 100)"),
  offset: described(OffsetParam, "Legacy offset-based pagination. Prefer `cursor` (keyset pagination)."),
  cursor: described(Schema.String, "Opaque keyset cursor returned by a previous response's `next_cursor`.")
})
export type CallLogFilters = typeof CallLogFilters.Type

/** call-logs/latency's query (a named const: the hot read (Http/HotReads.ts) decodes with it too). */
export const LatencyQuery = Schema.Struct({
  window: described(Schema.String, "Aggregation window: 24h | 7d | 30d | all (default 24h)."),
  samples: described(LimitParam(50), "Maximum slow-call samples to return (default 10, max 50).")
})
export type LatencyQuery = typeof LatencyQuery.Type

/** The tenant's call history: list, detail, aggregate stats and turn latency. */
export class CallLogsApi extends HttpApiGroup.make("callLogs")
  .add(
    HttpApiEndpoint.get("list", "/api/v1/call-logs")
      .setUrlParams(CallLogFilters)
      .addSuccess(CallLogsListResponse)
      .addError(ApiError.BadRequest)
      .annotate(OpenApi.Identifier, "list_call_logs")
  )
  .add(
    HttpApiEndpoint.get("latency", "/api/v1/call-logs/latency")
      .setUrlParams(LatencyQuery)
      .addSuccess(CallLatencyResponse)
      .addError(ApiError.BadRequest)
      .annotate(OpenApi.Identifier, "get_call_latency")
  )
  .add(
    HttpApiEndpoint.get("stats", "/api/v1/call-logs/stats")
      .addSuccess(CallStatsResponse)
      .annotate(OpenApi.Identifier, "get_call_stats")
  )
  .add(
    HttpApiEndpoint.get("get", "/api/v1/call-logs/:id")
      .setPath(Schema.Struct({ id: UuidPathId("Call log ID") }))
      .addSuccess(CallLogDetailResponse)
      .addError(ApiError.NotFound)
      .annotate(OpenApi.Identifier, "get_call_log")
  )
  .addError(ApiError.Unavailable)
  .addError(ApiError.ServerError)
  .middleware(TenantAuth)
  .annotate(OpenApi.Title, "call_logs")
{}
