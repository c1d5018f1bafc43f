import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { TenantAuth } from "../Auth/Middleware.js"
import { ApiError } from "../Http/Errors.js"
import { AnyJson, LimitParam, NonNegativeInt, OffsetParam, optionalNullable, Timestamp } from "../Http/Schemas.js"

export class VoiceSessionEval extends Schema.Class<VoiceSessionEval>("VoiceSessionEval")({
  agent_key: optionalNullable(Schema.String),
  agent_name: optionalNullable(Schema.String),
  /** null when the session was not served by a known agent version (see docs/spec-deviations.md). */
  agent_version_id: Schema.NullOr(Schema.String),
  /** null when the session has no call log (e.g. created through the API). */
  call_log_id: Schema.NullOr(Schema.String),
  created_at: Timestamp,
  id: Schema.String,
  metadata: AnyJson,
  notes: optionalNullable(Schema.String),
  rubric: AnyJson,
  score: Schema.Number,
  session_id: Schema.String,
  source: optionalNullable(Schema.String),
  stream_id: optionalNullable(Schema.String),
  tags: Schema.Array(Schema.String),
  tenant_id: Schema.String,
  updated_at: Timestamp,
  voice_session_id: Schema.String
}) {}

export class VoiceSessionEvalStats extends Schema.Class<VoiceSessionEvalStats>("VoiceSessionEvalStats")({
  avg_score: optionalNullable(Schema.Number),
  evals_last_24h: NonNegativeInt,
  high_quality_rate: optionalNullable(Schema.Number),
  total_evals: NonNegativeInt
}) {}

/** The spec leaves the list body undescribed; this mirrors the other tenant list responses. */
export class VoiceSessionEvalsListResponse extends Schema.Class<VoiceSessionEvalsListResponse>("VoiceSessionEvalsListResponse")({
  count: NonNegativeInt,
  evals: Schema.Array(VoiceSessionEval),
  ok: Schema.Boolean,
  tenant: Schema.String
}) {}

const ScoreParam = Schema.NumberFromString.pipe(
  Schema.filter((n) => Number.isFinite(n), { message: () => "must be a number" })
).annotations({ jsonSchema: { type: "number", format: "double" } })

/** Quality evaluations of the calling tenant's voice sessions. */
export class VoiceSessionEvalsApi extends HttpApiGroup.make("voiceSessionEvals")
  .add(
    HttpApiEndpoint.get("list", "/api/v1/voice-session-evals")
      .setUrlParams(Schema.Struct({
        min_score: Schema.optional(ScoreParam),
        max_score: Schema.optional(ScoreParam),
        tag: Schema.optional(Schema.String),
        limit: Schema.optional(LimitParam(200)),
        offset: Schema.optional(OffsetParam)
      }))
      .addSuccess(VoiceSessionEvalsListResponse)
      .addError(ApiError.BadRequest)
      .annotate(OpenApi.Identifier, "list_voice_session_evals")
  )
  .add(
    HttpApiEndpoint.get("stats", "/api/v1/voice-session-evals/stats")
      .addSuccess(VoiceSessionEvalStats)
      .annotate(OpenApi.Identifier, "get_voice_session_eval_stats")
  )
  .add(
    HttpApiEndpoint.get("bySession", "/api/v1/voice-session-evals/by-session/:session_id")
      .setPath(Schema.Struct({
        session_id: Schema.String.annotations({ description: "Voice session id or stream id" })
      }))
      .addSuccess(VoiceSessionEval)
      .addError(ApiError.NotFound)
      .annotate(OpenApi.Identifier, "get_voice_session_eval_by_session")
  )
  .addError(ApiError.Unavailable)
  .addError(ApiError.ServerError)
  .middleware(TenantAuth)
  .annotate(OpenApi.Title, "voice_sessions")
{}
