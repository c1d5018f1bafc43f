import { Schema } from "effect"
import { AnyJson, Int, NonNegativeInt, optionalNullable, Text, Timestamp } from "../Http/Schemas.js"

const Int32 = Int.annotations({ jsonSchema: { type: "integer", format: "int32" } })

const IntBetween = (name: string, min: number, max: number) =>
  Int.pipe(Schema.between(min, max, { message: () => `${name} must be an integer from ${min} to ${max}` }))
    .annotations({ jsonSchema: { type: "integer", format: "int32" } })

/** A tenant's operator queue (`OperatorQueue`). */
export class OperatorQueue extends Schema.Class<OperatorQueue>("OperatorQueue")({
  active: Schema.Boolean,
  auto_dispatch_delay_seconds: optionalNullable(Int32),
  auto_dispatch_enabled: Schema.Boolean,
  auto_dispatch_max_attempts: Int32,
  auto_dispatch_retry_delay_seconds: optionalNullable(Int32),
  created_at: Timestamp,
  default_assignee: optionalNullable(Schema.String),
  description: optionalNullable(Schema.String),
  dispatch_schedule: AnyJson,
  dispatch_timezone: optionalNullable(Schema.String),
  dispatch_window_end_hour_utc: optionalNullable(Int32),
  dispatch_window_start_hour_utc: optionalNullable(Int32),
  follow_up_escalation_assignee: optionalNullable(Schema.String),
  follow_up_escalation_priority: optionalNullable(Int32),
  follow_up_escalation_queue_key: optionalNullable(Schema.String),
  follow_up_escalation_seconds: optionalNullable(Int32),
  id: Schema.String,
  is_default: Schema.Boolean,
  metadata: AnyJson,
  name: Schema.String,
  priority: Int32,
  queue_key: Schema.String,
  sla_seconds: optionalNullable(Int32),
  tenant_id: Schema.String,
  updated_at: Timestamp
}) {}

const isValidTimeZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone })
    return true
  } catch {
    return false
  }
}

const TimeZone = Text.Name.pipe(
  Schema.filter(isValidTimeZone, { message: () => "dispatch_timezone must be an IANA time zone such as America/New_York" })
)

const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown }).annotations({
  message: () => "must be a JSON object",
  jsonSchema: {}
})

/** `PUT /operator-queues/{queue_key}`: absent fields keep their stored value (or the default). */
export class UpsertOperatorQueueRequest extends Schema.Class<UpsertOperatorQueueRequest>("UpsertOperatorQueueRequest")({
  active: Schema.optional(Schema.Boolean),
  auto_dispatch_delay_seconds: optionalNullable(IntBetween("auto_dispatch_delay_seconds", 0, 30 * 86_400)),
  auto_dispatch_enabled: Schema.optional(Schema.Boolean),
  auto_dispatch_max_attempts: Schema.optional(IntBetween("auto_dispatch_max_attempts", 0, 20)),
  auto_dispatch_retry_delay_seconds: optionalNullable(IntBetween("auto_dispatch_retry_delay_seconds", 0, 30 * 86_400)),
  default_assignee: optionalNullable(Text.Name),
  description: optionalNullable(Text.Short),
  dispatch_schedule: Schema.optional(JsonObject),
  dispatch_timezone: optionalNullable(TimeZone),
  dispatch_window_end_hour_utc: optionalNullable(IntBetween("dispatch_window_end_hour_utc", 0, 24)),
  dispatch_window_start_hour_utc: optionalNullable(IntBetween("dispatch_window_start_hour_utc", 0, 23)),
  follow_up_escalation_assignee: optionalNullable(Text.Name),
  follow_up_escalation_priority: optionalNullable(IntBetween("follow_up_escalation_priority", -1_000_000, 1_000_000)),
  follow_up_escalation_queue_key: optionalNullable(Text.Id),
  follow_up_escalation_seconds: optionalNullable(IntBetween("follow_up_escalation_seconds", 1, 365 * 86_400)),
  is_default: Schema.optional(Schema.Boolean),
  metadata: Schema.optional(JsonObject),
  name: Text.Name.pipe(Schema.minLength(1, { message: () => "name must not be empty" })),
  priority: Schema.optional(IntBetween("priority", -1_000_000, 1_000_000)),
  sla_seconds: optionalNullable(IntBetween("sla_seconds", 1, 365 * 86_400))
}) {}

/** `GET /operator-queues/stats`, one per queue. */
export class OperatorQueueStats extends Schema.Class<OperatorQueueStats>("OperatorQueueStats")({
  in_progress_tasks: NonNegativeInt,
  name: Schema.String,
  oldest_task_age_secs: optionalNullable(Schema.Number.annotations({ jsonSchema: { type: "number", format: "double" } })),
  open_tasks: NonNegativeInt,
  overdue_tasks: NonNegativeInt,
  priority: Int32,
  queue_key: Schema.String,
  sla_seconds: optionalNullable(Int32),
  total_tasks: NonNegativeInt,
  unassigned_tasks: NonNegativeInt
}) {}
