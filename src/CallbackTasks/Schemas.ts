import { Schema } from "effect"
import { AnyJson, Int, NonNegativeInt, optionalNullable, Text, Timestamp } from "../Http/Schemas.js"

const Int32 = Int.annotations({ jsonSchema: { type: "integer", format: "int32" } })

export const TASK_STATUSES = ["open", "in_progress", "completed", "canceled"] as const
export const CallbackTaskStatus = Schema.Literal(...TASK_STATUSES).annotations({
  identifier: "CallbackTaskStatus",
  message: () => `status must be one of ${TASK_STATUSES.join(", ")}`
})
export type CallbackTaskStatus = typeof CallbackTaskStatus.Type

export const DISPOSITIONS = [
  "human_follow_up_required",
  "callback_requested",
  "callback_scheduled",
  "transferred",
  "resolved",
  "voicemail_follow_up",
  "customer_abandoned"
] as const
export const CallbackDisposition = Schema.Literal(...DISPOSITIONS).annotations({
  identifier: "CallbackDisposition",
  message: () => `disposition must be one of ${DISPOSITIONS.join(", ")}`
})
export type CallbackDisposition = typeof CallbackDisposition.Type

/** A required timestamp the spec types as a string; null while the event has not happened (docs/spec-deviations.md). */
const Moment = Schema.NullOr(Timestamp)

export class CallbackTask extends Schema.Class<CallbackTask>("CallbackTask")({
  acknowledged_at: Moment,
  acknowledged_by: optionalNullable(Schema.String),
  agent_name: optionalNullable(Schema.String),
  assigned_to: optionalNullable(Schema.String),
  call_sid: optionalNullable(Schema.String),
  claimed_at: Moment,
  completed_at: Moment,
  created_at: Timestamp,
  created_by: optionalNullable(Schema.String),
  customer_phone: optionalNullable(Schema.String),
  dispatch_attempt_count: Int32,
  disposition: CallbackDisposition,
  due_at: Timestamp,
  id: Schema.String,
  last_dispatch_attempted_at: Moment,
  last_dispatch_call_sid: optionalNullable(Schema.String),
  last_dispatch_status: optionalNullable(Schema.String),
  last_sla_alert_due_at: Moment,
  last_sla_alerted_at: Moment,
  metadata: AnyJson,
  notes: optionalNullable(Schema.String),
  priority: Int32,
  queue_key: optionalNullable(Schema.String),
  sla_due_at: Moment,
  snooze_reason: optionalNullable(Schema.String),
  snoozed_until: Moment,
  status: CallbackTaskStatus,
  stream_sid: optionalNullable(Schema.String),
  summary: optionalNullable(Schema.String),
  tenant_id: Schema.String,
  updated_at: Timestamp
}) {}

const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
  message: () => "metadata must be a JSON object",
  jsonSchema: {}
})

const Priority = Int.pipe(Schema.between(-1_000_000, 1_000_000, { message: () => "priority must be an integer from -1000000 to 1000000" }))
  .annotations({ jsonSchema: { type: "integer", format: "int32" } })

/** A date-time in a request body: ISO 8601 with a zone, so no server's local time is guessed. */
export const DateTimeInput = (name: string) =>
  Schema.String.pipe(
    Schema.filter((text) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(text) && !Number.isNaN(Date.parse(text)), {
      message: () => `${name} must be an ISO 8601 date-time with a time zone, such as 2024-01-15T18:00:00Z`
    }),
    Schema.transform(Schema.DateFromSelf, { strict: true, decode: (text) => new Date(text), encode: (date) => date.toISOString() })
  ).annotations({ jsonSchema: { type: "string", format: "date-time" } })

export class CreateCallbackTaskRequest extends Schema.Class<CreateCallbackTaskRequest>("CreateCallbackTaskRequest")({
  agent_name: optionalNullable(Text.Name),
  assigned_to: optionalNullable(Text.Name),
  call_sid: optionalNullable(Text.Id),
  created_by: Schema.optional(Text.Name),
  customer_phone: optionalNullable(Text.Phone),
  disposition: CallbackDisposition,
  due_at: optionalNullable(DateTimeInput("due_at")),
  metadata: Schema.optional(JsonObject),
  notes: optionalNullable(Text.Short),
  priority: optionalNullable(Priority),
  queue_key: optionalNullable(Text.Id),
  sla_due_at: optionalNullable(DateTimeInput("sla_due_at")),
  status: optionalNullable(CallbackTaskStatus),
  stream_sid: optionalNullable(Text.Id),
  summary: optionalNullable(Text.Short)
}) {}

export class UpdateCallbackTaskRequest extends Schema.Class<UpdateCallbackTaskRequest>("UpdateCallbackTaskRequest")({
  assigned_to: optionalNullable(Text.Name),
  disposition: optionalNullable(CallbackDisposition),
  due_at: optionalNullable(DateTimeInput("due_at")),
  metadata: Schema.optional(JsonObject),
  notes: optionalNullable(Text.Short),
  priority: optionalNullable(Priority),
  queue_key: optionalNullable(Text.Id),
  sla_due_at: optionalNullable(DateTimeInput("sla_due_at")),
  status: optionalNullable(CallbackTaskStatus),
  summary: optionalNullable(Text.Short)
}) {}

const Operator = Text.Name.pipe(Schema.minLength(1, { message: () => "operator must not be empty" }))

export class AcknowledgeCallbackTaskRequest extends Schema.Class<AcknowledgeCallbackTaskRequest>("AcknowledgeCallbackTaskRequest")({
  note: optionalNullable(Text.Short),
  operator: Operator
}) {}

export class AssignCallbackTaskRequest extends Schema.Class<AssignCallbackTaskRequest>("AssignCallbackTaskRequest")({
  assigned_to: Text.Name.pipe(Schema.minLength(1, { message: () => "assigned_to must not be empty" })),
  due_at: optionalNullable(DateTimeInput("due_at")),
  priority: optionalNullable(Priority),
  sla_due_at: optionalNullable(DateTimeInput("sla_due_at"))
}) {}

export class ClaimCallbackTaskRequest extends Schema.Class<ClaimCallbackTaskRequest>("ClaimCallbackTaskRequest")({
  operator: Operator
}) {}

export class ReleaseCallbackTaskRequest extends Schema.Class<ReleaseCallbackTaskRequest>("ReleaseCallbackTaskRequest")({
  clear_assignee: Schema.optional(Schema.Boolean)
}) {}

export class SnoozeCallbackTaskRequest extends Schema.Class<SnoozeCallbackTaskRequest>("SnoozeCallbackTaskRequest")({
  operator: Operator,
  reason: optionalNullable(Text.Short),
  snoozed_until: DateTimeInput("snoozed_until")
}) {}

export class UnsnoozeCallbackTaskRequest extends Schema.Class<UnsnoozeCallbackTaskRequest>("UnsnoozeCallbackTaskRequest")({
  note: optionalNullable(Text.Short),
  operator: Operator
}) {}

export class AdminCallbackTasksResponse extends Schema.Class<AdminCallbackTasksResponse>("AdminCallbackTasksResponse")({
  count: NonNegativeInt,
  ok: Schema.Boolean,
  tasks: Schema.Array(CallbackTask)
}) {}
