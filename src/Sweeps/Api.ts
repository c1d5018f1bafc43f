import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { AdminAuth } from "../Auth/Middleware.js"
import { AdminError } from "../Http/Errors.js"
import { BooleanFromQuery, NonNegativeIntFromQuery } from "../Http/Schemas.js"
import {
  AdminExternalCallbackTaskReconciliationResponse,
  AdminOperatorCallbackDispatchResponse,
  AdminOperatorFollowUpNotificationResponse,
  AdminOperatorQueueSweepResponse
} from "./Schemas.js"

const Common = {
  auth_token: Schema.optional(Schema.String),
  limit: Schema.optional(NonNegativeIntFromQuery),
  emit_webhooks: Schema.optional(BooleanFromQuery)
}

/** The operator-queue sweeps, run once on demand; the same effects run on a schedule on every replica. */
export class OperatorSweepsApi extends HttpApiGroup.make("operatorSweeps")
  .add(
    HttpApiEndpoint.post("sla", "/api/v1/admin/operator-queues/sweep")
      .setUrlParams(Schema.Struct(Common))
      .addSuccess(AdminOperatorQueueSweepResponse)
      .addError(AdminError.BadRequest)
      .annotate(OpenApi.Identifier, "sweep_operator_queues_admin")
  )
  .add(
    HttpApiEndpoint.post("followUp", "/api/v1/admin/operator-queues/follow-up-notifications/sweep")
      .setUrlParams(Schema.Struct({ ...Common, send_notifications: Schema.optional(BooleanFromQuery) }))
      .addSuccess(AdminOperatorFollowUpNotificationResponse)
      .addError(AdminError.BadRequest)
      .annotate(OpenApi.Identifier, "sweep_operator_follow_up_notifications_admin")
  )
  .add(
    HttpApiEndpoint.post("dispatch", "/api/v1/admin/operator-queues/dispatch")
      .setUrlParams(Schema.Struct({ ...Common, dry_run: Schema.optional(BooleanFromQuery) }))
      .addSuccess(AdminOperatorCallbackDispatchResponse)
      .addError(AdminError.BadRequest)
      .annotate(OpenApi.Identifier, "dispatch_operator_callbacks_admin")
  )
  .add(
    HttpApiEndpoint.post("reconcile", "/api/v1/admin/operator-queues/external-reconciliation/sweep")
      .setUrlParams(Schema.Struct(Common))
      .addSuccess(AdminExternalCallbackTaskReconciliationResponse)
      .addError(AdminError.BadRequest)
      .annotate(OpenApi.Identifier, "sweep_external_callback_task_reconciliation_admin")
  )
  .addError(AdminError.Unavailable)
  .middleware(AdminAuth)
  .annotate(OpenApi.Title, "admin")
{}
