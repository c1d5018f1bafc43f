import { Schema } from "effect"
import { AnyJson, Int, NonNegativeInt, optionalNullable, RequiredJson, Timestamp, Uuid } from "../Http/Schemas.js"

/** Wire schemas of the call logs API (spec names and fields). */

export const AnsweredBy = Schema.Literal(
  "human",
  "machine_start",
  "machine_end_beep",
  "machine_end_silence",
  "machine_end_other",
  "fax",
  "unknown"
).annotations({ identifier: "AnsweredBy" })

/** The spec's values only: a console test call (stored `web`) is shown as `inbound` (WireDirection.ts). */
export const CallDirection = Schema.Literal("inbound", "outbound").annotations({ identifier: "CallDirection" })

export const CallOutcome = Schema.Literal("answered", "voicemail", "no_answer", "busy", "failed").annotations({
  identifier: "CallOutcome"
})

export const CallStatus = Schema.Literal("in_progress", "completed", "failed", "escalated", "busy", "no_answer", "canceled")
  .annotations({ identifier: "CallStatus" })

export class FunctionCallEntry extends Schema.Class<FunctionCallEntry>("FunctionCallEntry")({
  /** Required by the spec: a stored call without arguments shows `null`. */
  arguments: RequiredJson,
  duration_ms: optionalNullable(Int),
  name: Schema.String,
  result: Schema.optional(AnyJson),
  timestamp: Schema.String
}) {}

export class TranscriptEntry extends Schema.Class<TranscriptEntry>("TranscriptEntry")({
  content: Schema.String,
  role: Schema.String,
  timestamp: Schema.String
}) {}

export class CallLog extends Schema.Class<CallLog>("CallLog")({
  answered_by: optionalNullable(AnsweredBy),
  call_sid: optionalNullable(Schema.String),
  created_at: Schema.String,
  direction: CallDirection,
  duration_seconds: optionalNullable(Int),
  /** null while the call is in progress (spec: required string). */
  ended_at: Schema.NullOr(Schema.String),
  error_message: optionalNullable(Schema.String),
  escalated: Schema.Boolean,
  escalation_reason: optionalNullable(Schema.String),
  from_number: optionalNullable(Schema.String),
  function_calls: Schema.Array(FunctionCallEntry),
  id: Schema.String,
  model: optionalNullable(Schema.String),
  outcome: optionalNullable(CallOutcome),
  recording_url: optionalNullable(Schema.String),
  started_at: Schema.String,
  status: CallStatus,
  /** null for a call that never opened a media stream (spec: required string). */
  stream_sid: Schema.NullOr(Schema.String),
  summary: optionalNullable(Schema.String),
  system_prompt_key: optionalNullable(Schema.String),
  tenant_id: Schema.String,
  to_number: optionalNullable(Schema.String),
  transcript: Schema.Array(TranscriptEntry),
  updated_at: Schema.String,
  voice: optionalNullable(Schema.String)
}) {}

export class CallLogDetailResponse extends Schema.Class<CallLogDetailResponse>("CallLogDetailResponse")({
  call: CallLog,
  ok: Schema.Boolean
}) {}

export class CallLogSummary extends Schema.Class<CallLogSummary>("CallLogSummary")({
  direction: Schema.String,
  duration_seconds: optionalNullable(Int),
  ended_at: optionalNullable(Schema.String),
  escalated: Schema.Boolean,
  from_number: optionalNullable(Schema.String),
  function_call_count: NonNegativeInt,
  id: Schema.String,
  outcome: optionalNullable(Schema.String),
  started_at: Schema.String,
  status: Schema.String,
  /** null for a call that never opened a media stream (spec: required string). */
  stream_sid: Schema.NullOr(Schema.String),
  to_number: optionalNullable(Schema.String),
  transcript_length: NonNegativeInt
}) {}

export class CallLogsListResponse extends Schema.Class<CallLogsListResponse>("CallLogsListResponse")({
  calls: Schema.Array(CallLogSummary),
  count: NonNegativeInt,
  next_cursor: optionalNullable(Schema.String),
  ok: Schema.Boolean,
  tenant: Schema.String
}) {}

export class CallStats extends Schema.Class<CallStats>("CallStats")({
  answer_rate: optionalNullable(Schema.Number),
  answered_calls: NonNegativeInt,
  avg_duration_seconds: optionalNullable(Schema.Number),
  busy_calls: NonNegativeInt,
  calls_last_24h: NonNegativeInt,
  completed_calls: NonNegativeInt,
  escalated_calls: NonNegativeInt,
  failed_calls: NonNegativeInt,
  failed_outcome_calls: NonNegativeInt,
  no_answer_calls: NonNegativeInt,
  total_calls: NonNegativeInt,
  voicemail_calls: NonNegativeInt
}) {}

export class CallStatsResponse extends Schema.Class<CallStatsResponse>("CallStatsResponse")({
  ok: Schema.Boolean,
  stats: CallStats,
  tenant: Schema.String
}) {}

const Ms = optionalNullable(Schema.Number)

export class LatencySample extends Schema.Class<LatencySample>("LatencySample")({
  call_sid: optionalNullable(Schema.String),
  duration_seconds: optionalNullable(Int),
  e2e_p95_ms: Ms,
  id: Uuid,
  llm_p50_ms: Ms,
  llm_p95_ms: Ms,
  model: optionalNullable(Schema.String),
  started_at: Timestamp,
  /** null for a call that never opened a media stream (spec: required string). */
  stream_sid: Schema.NullOr(Schema.String),
  turn_count: optionalNullable(Int),
  voice: optionalNullable(Schema.String)
}) {}

export class LatencyStats extends Schema.Class<LatencyStats>("LatencyStats")({
  avg_e2e_first_audio_ms: Ms,
  avg_llm_first_token_ms: Ms,
  call_sample_count: Int,
  max_e2e_first_audio_ms: Ms,
  max_llm_first_token_ms: Ms,
  p50_e2e_first_audio_ms: Ms,
  p50_llm_first_token_ms: Ms,
  p95_e2e_first_audio_ms: Ms,
  p95_llm_first_token_ms: Ms,
  p99_e2e_first_audio_ms: Ms,
  p99_llm_first_token_ms: Ms,
  turn_sample_count: Int,
  window: Schema.String
}) {}

export class LatencyTimeseriesPoint extends Schema.Class<LatencyTimeseriesPoint>("LatencyTimeseriesPoint")({
  bucket_start: Timestamp,
  call_count: Int,
  p50_e2e_first_audio_ms: Ms,
  p50_llm_first_token_ms: Ms,
  p95_e2e_first_audio_ms: Ms,
  p95_llm_first_token_ms: Ms,
  p99_e2e_first_audio_ms: Ms,
  p99_llm_first_token_ms: Ms
}) {}

export class LatencyTimeseries extends Schema.Class<LatencyTimeseries>("LatencyTimeseries")({
  bucket: Schema.String,
  points: Schema.Array(LatencyTimeseriesPoint),
  window: Schema.String
}) {}

export class CallLatencyResponse extends Schema.Class<CallLatencyResponse>("CallLatencyResponse")({
  ok: Schema.Boolean,
  slowest: Schema.Array(LatencySample),
  stats: LatencyStats,
  tenant: Schema.String,
  timeseries: LatencyTimeseries
}) {}
