import { Schema } from "effect"
import { Int, NonNegativeInt, optionalNullable, Timestamp } from "../Http/Schemas.js"
import { CallbackTaskStatus } from "../CallbackTasks/Schemas.js"

const Count = NonNegativeInt.annotations({ jsonSchema: { type: "integer", format: "int64", minimum: 0 } })
const Int32 = Int.annotations({ jsonSchema: { type: "integer", format: "int32" } })

const failure = <const Name extends string>(name: Name) =>
  Schema.Struct({ error: Schema.String, task_id: Schema.String, tenant_id: optionalNullable(Schema.String) }).annotations({ identifier: name })

export const OperatorQueueSweepFailure = failure("OperatorQueueSweepFailure")
export type SweepFailure = typeof OperatorQueueSweepFailure.Type

export class OperatorQueueSweepItem extends Schema.Class<OperatorQueueSweepItem>("OperatorQueueSweepItem")({
  assigned_to: optionalNullable(Schema.String),
  customer_phone: optionalNullable(Schema.String),
  queue_key: optionalNullable(Schema.String),
  sla_due_at: Timestamp,
  stream_sid: optionalNullable(Schema.String),
  task_id: Schema.String,
  tenant_id: Schema.String,
  webhook_enqueued: Schema.Boolean
}) {}

export class OperatorQueueSweepResult extends Schema.Class<OperatorQueueSweepResult>("OperatorQueueSweepResult")({
  alerts_recorded: Count,
  attempted_tenants: Count,
  evaluated_tenants: Count,
  failures: Schema.Array(OperatorQueueSweepFailure),
  items: Schema.Array(OperatorQueueSweepItem),
  overdue_tasks: Count,
  webhooks_enqueued: Count
}) {}

export class AdminOperatorQueueSweepResponse extends Schema.Class<AdminOperatorQueueSweepResponse>("AdminOperatorQueueSweepResponse")({
  ok: Schema.Boolean,
  result: OperatorQueueSweepResult
}) {}

export const OperatorFollowUpNotificationFailure = failure("OperatorFollowUpNotificationFailure")

export class OperatorFollowUpNotificationItem extends Schema.Class<OperatorFollowUpNotificationItem>("OperatorFollowUpNotificationItem")({
  assigned_to: optionalNullable(Schema.String),
  customer_phone: optionalNullable(Schema.String),
  escalated: Schema.Boolean,
  escalation_assignee: optionalNullable(Schema.String),
  escalation_queue_key: optionalNullable(Schema.String),
  notification_channel: optionalNullable(Schema.String),
  notification_sent: Schema.Boolean,
  notification_target: optionalNullable(Schema.String),
  queue_key: optionalNullable(Schema.String),
  reason: Schema.String,
  snooze_expired: Schema.Boolean,
  task_id: Schema.String,
  tenant_id: Schema.String,
  webhook_enqueued: Schema.Boolean
}) {}

export class OperatorFollowUpNotificationResult extends Schema.Class<OperatorFollowUpNotificationResult>("OperatorFollowUpNotificationResult")({
  attempted_tenants: Count,
  candidate_tasks: Count,
  escalations_applied: Count,
  evaluated_tenants: Count,
  failures: Schema.Array(OperatorFollowUpNotificationFailure),
  items: Schema.Array(OperatorFollowUpNotificationItem),
  notifications_sent: Count,
  snoozes_expired: Count,
  webhooks_enqueued: Count
}) {}

export class AdminOperatorFollowUpNotificationResponse
  extends Schema.Class<AdminOperatorFollowUpNotificationResponse>("AdminOperatorFollowUpNotificationResponse")({
    ok: Schema.Boolean,
    result: OperatorFollowUpNotificationResult
  })
{}

export const OperatorCallbackDispatchFailure = failure("OperatorCallbackDispatchFailure")

export class OperatorCallbackDispatchItem extends Schema.Class<OperatorCallbackDispatchItem>("OperatorCallbackDispatchItem")({
  call_sid: optionalNullable(Schema.String),
  customer_phone: optionalNullable(Schema.String),
  dispatch_attempt_count: Int32,
  dry_run: Schema.Boolean,
  queue_key: optionalNullable(Schema.String),
  task_id: Schema.String,
  tenant_id: Schema.String
}) {}

export class OperatorCallbackDispatchResult extends Schema.Class<OperatorCallbackDispatchResult>("OperatorCallbackDispatchResult")({
  attempted_tenants: Count,
  dispatched_tasks: Count,
  dry_run_tasks: Count,
  eligible_tasks: Count,
  evaluated_tenants: Count,
  failures: Schema.Array(OperatorCallbackDispatchFailure),
  items: Schema.Array(OperatorCallbackDispatchItem)
}) {}

export class AdminOperatorCallbackDispatchResponse
  extends Schema.Class<AdminOperatorCallbackDispatchResponse>("AdminOperatorCallbackDispatchResponse")({
    ok: Schema.Boolean,
    result: OperatorCallbackDispatchResult
  })
{}

export const ExternalCallbackTaskReconciliationFailure = Schema.Struct({
  error: Schema.String,
  external_reference_id: optionalNullable(Schema.String),
  task_id: Schema.String,
  tenant_id: optionalNullable(Schema.String)
}).annotations({ identifier: "ExternalCallbackTaskReconciliationFailure" })

export class ExternalCallbackTaskReconciliationItem
  extends Schema.Class<ExternalCallbackTaskReconciliationItem>("ExternalCallbackTaskReconciliationItem")({
    assigned_to: optionalNullable(Schema.String),
    external_assignee: optionalNullable(Schema.String),
    external_reference_id: Schema.String,
    external_status: optionalNullable(Schema.String),
    previous_assigned_to: optionalNullable(Schema.String),
    previous_status: CallbackTaskStatus,
    source: Schema.String,
    status: CallbackTaskStatus,
    task_id: Schema.String,
    tenant_id: Schema.String,
    webhook_enqueued: Schema.Boolean
  })
{}

export class ExternalCallbackTaskReconciliationResult
  extends Schema.Class<ExternalCallbackTaskReconciliationResult>("ExternalCallbackTaskReconciliationResult")({
    attempted_tenants: Count,
    candidate_tasks: Count,
    evaluated_tenants: Count,
    failures: Schema.Array(ExternalCallbackTaskReconciliationFailure),
    items: Schema.Array(ExternalCallbackTaskReconciliationItem),
    reconciled_tasks: Count,
    unchanged_tasks: Count,
    webhooks_enqueued: Count
  })
{}

export class AdminExternalCallbackTaskReconciliationResponse
  extends Schema.Class<AdminExternalCallbackTaskReconciliationResponse>("AdminExternalCallbackTaskReconciliationResponse")({
    ok: Schema.Boolean,
    result: ExternalCallbackTaskReconciliationResult
  })
{}
