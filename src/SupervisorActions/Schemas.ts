import { Schema } from "effect"
import { AnyJson, NonNegativeInt, optionalNullable, Timestamp } from "../Http/Schemas.js"

/** The spec's values; a limit's `refuse` rows are shown as `end` (WireAction.ts). */
export const ACTIONS = ["monitor", "whisper", "barge", "escalate", "end"] as const
export const SupervisorActionType = Schema.Literal(...ACTIONS).annotations({
  identifier: "SupervisorActionType",
  message: () => `action must be one of ${ACTIONS.join(", ")}`
})
export type SupervisorActionType = typeof SupervisorActionType.Type

export class SupervisorActionLog extends Schema.Class<SupervisorActionLog>("SupervisorActionLog")({
  action: SupervisorActionType,
  call_sid: optionalNullable(Schema.String),
  created_at: Timestamp,
  id: Schema.String,
  metadata: AnyJson,
  note: optionalNullable(Schema.String),
  reason: optionalNullable(Schema.String),
  stream_sid: Schema.String,
  supervisor: Schema.String,
  target: optionalNullable(Schema.String),
  tenant_id: Schema.String
}) {}

export class AdminSupervisorActionsResponse extends Schema.Class<AdminSupervisorActionsResponse>("AdminSupervisorActionsResponse")({
  actions: Schema.Array(SupervisorActionLog),
  count: NonNegativeInt,
  ok: Schema.Boolean
}) {}
