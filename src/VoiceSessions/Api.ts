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
  JsonDocument,
  optionalNullable,
  Text,
  Timestamp,
  UuidPathId
} from "../Http/Schemas.js"

export class VoiceSession extends Schema.Class<VoiceSession>("VoiceSession")({
  agent_name: optionalNullable(Schema.String),
  call_sid: optionalNullable(Schema.String),
  call_type: optionalNullable(Schema.String),
  created_at: Timestamp,
  customer_phone: optionalNullable(Schema.String),
  duration_ms: optionalNullable(Int),
  /** null while the session is still active (see docs/spec-deviations.md). */
  ended_at: Schema.NullOr(Timestamp),
  function_calls: AnyJson,
  id: Schema.String,
  metadata: AnyJson,
  model: optionalNullable(Schema.String),
  org_id: optionalNullable(Schema.String),
  rating: optionalNullable(Int),
  sentiment: optionalNullable(Schema.String),
  started_at: Timestamp,
  status: Schema.String,
  stream_id: Schema.String,
  summary: optionalNullable(Schema.String),
  tags: Schema.Array(Schema.String),
  tenant_id: Schema.String,
  transcript: AnyJson,
  turn_count: Int,
  updated_at: Timestamp,
  vad_events: AnyJson,
  voice: optionalNullable(Schema.String)
}) {}

const StreamId = Schema.String.pipe(
  Schema.filter((id) => id.trim().length > 0 && id.length <= 200, {
    message: () => "stream_id must be 1-200 characters and not blank"
  })
)

const DurationMs = Int.pipe(Schema.nonNegative({ message: () => "duration_ms must be 0 or more" }))
  .annotations({ jsonSchema: { type: "integer", format: "int64" } })

export class CreateVoiceSessionRequest extends Schema.Class<CreateVoiceSessionRequest>("CreateVoiceSessionRequest")({
  agent_name: optionalNullable(Text.Name),
  call_sid: optionalNullable(Text.Id),
  call_type: optionalNullable(Text.Id),
  customer_phone: optionalNullable(Text.Phone),
  duration_ms: optionalNullable(DurationMs),
  metadata: Schema.optional(JsonDocument(65_536)),
  model: optionalNullable(Text.Id),
  org_id: optionalNullable(Text.Id),
  sentiment: optionalNullable(Text.Id),
  status: optionalNullable(Text.Id),
  stream_id: StreamId,
  summary: optionalNullable(Text.Short),
  tags: optionalNullable(Schema.Array(Text.Name).pipe(Schema.maxItems(100))),
  transcript: Schema.optional(JsonDocument(524_288)),
  voice: optionalNullable(Text.Id)
}) {}

/** The spec leaves the list body undescribed; this mirrors `VoiceOutcomesListResponse`. */
export class VoiceSessionsListResponse extends Schema.Class<VoiceSessionsListResponse>("VoiceSessionsListResponse")({
  count: NonNegativeInt,
  ok: Schema.Boolean,
  sessions: Schema.Array(VoiceSession),
  tenant: Schema.String
}) {}

export const SessionSort = Schema.Literal("asc", "desc", "started_at_asc", "started_at_desc")

export const VoiceSessionFilters = Schema.Struct({
  status: Schema.optional(Schema.String).annotations({
    description: "Filter by status (active, completed, transferred, failed)"
  }),
  search: Schema.optional(Schema.String).annotations({
    description: "Case-insensitive search across phone, agent, summary, and transcript"
  }),
  started_after: Schema.optional(Schema.Date.annotations({ message: () => "started_after must be an RFC3339 timestamp" })).annotations({
    description: "Return only sessions started after the given RFC3339 timestamp"
  }),
  sort: Schema.optional(SessionSort).annotations({ description: "Sort by started_at asc or desc" }),
  limit: Schema.optional(LimitParam(200)).annotations({ description: "Maximum results (default 50, max 200)" }),
  offset: Schema.optional(OffsetParam).annotations({ description: "Pagination offset" })
})
export type VoiceSessionFilters = typeof VoiceSessionFilters.Type

/** Persisted voice sessions of the calling tenant. */
export class VoiceSessionsApi extends HttpApiGroup.make("voiceSessions")
  .add(
    HttpApiEndpoint.get("list", "/api/v1/voice-sessions")
      .setUrlParams(VoiceSessionFilters)
      .addSuccess(VoiceSessionsListResponse)
      .annotate(OpenApi.Identifier, "list_voice_sessions")
  )
  .add(
    HttpApiEndpoint.post("create", "/api/v1/voice-sessions")
      .setPayload(CreateVoiceSessionRequest)
      .addSuccess(VoiceSession, { status: 201 })
      .addError(ApiError.BadRequest)
      .addError(ApiError.Conflict)
      .annotate(OpenApi.Identifier, "create_voice_session")
  )
  .add(
    HttpApiEndpoint.get("byStream", "/api/v1/voice-sessions/by-stream/:stream_id")
      .setPath(Schema.Struct({
        stream_id: Schema.String.annotations({ description: "Twilio stream ID (e.g. MZ1234...)" })
      }))
      .addSuccess(VoiceSession)
      .addError(ApiError.NotFound)
      .annotate(OpenApi.Identifier, "get_voice_session_by_stream")
  )
  .add(
    HttpApiEndpoint.get("get", "/api/v1/voice-sessions/:id")
      .setPath(Schema.Struct({ id: UuidPathId("Voice session UUID") }))
      .addSuccess(VoiceSession)
      .addError(ApiError.NotFound)
      .annotate(OpenApi.Identifier, "get_voice_session")
  )
  .addError(ApiError.Unavailable)
  .addError(ApiError.ServerError)
  .middleware(TenantAuth)
  .annotate(OpenApi.Title, "voice_sessions")
{}
