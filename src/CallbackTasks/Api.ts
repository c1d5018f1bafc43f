import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { AdminAuth, TenantAuth } from "../Auth/Middleware.js"
import { AdminError, ApiError } from "../Http/Errors.js"
import { BooleanFromQuery, LimitParam, OffsetParam, UuidPathId } from "../Http/Schemas.js"
import {
  AcknowledgeCallbackTaskRequest,
  AdminCallbackTasksResponse,
  AssignCallbackTaskRequest,
  CallbackDisposition,
  CallbackTask,
  CallbackTaskStatus,
  ClaimCallbackTaskRequest,
  CreateCallbackTaskRequest,
  ReleaseCallbackTaskRequest,
  SnoozeCallbackTaskRequest,
  UnsnoozeCallbackTaskRequest,
  UpdateCallbackTaskRequest
} from "./Schemas.js"

export const TaskFilterParams = {
  status: Schema.optional(CallbackTaskStatus),
  disposition: Schema.optional(CallbackDisposition),
  stream_sid: Schema.optional(Schema.String),
  limit: Schema.optional(LimitParam(200)),
  offset: Schema.optional(OffsetParam)
}

const TaskPath = Schema.Struct({ id: UuidPathId("Callback task UUID") })

const transition = <const Name extends string, P extends Schema.Schema.Any>(name: Name, path: string, payload: P, operationId: string) =>
  HttpApiEndpoint.post(name, `/api/v1/callback-tasks/:id/${path}`)
    .setPath(TaskPath)
    .setPayload(payload)
    .addSuccess(CallbackTask)
    .addError(ApiError.BadRequest)
    .addError(ApiError.NotFound)
    .annotate(OpenApi.Identifier, operationId)

/** Callback tasks of the calling tenant: the operators' work queue and its transitions. */
export class CallbackTasksApi extends HttpApiGroup.make("callbackTasks")
  .add(
    HttpApiEndpoint.get("list", "/api/v1/callback-tasks")
      .setUrlParams(Schema.Struct({
        ...TaskFilterParams,
        queue_key: Schema.optional(Schema.String),
        overdue_only: Schema.optional(BooleanFromQuery)
      }))
      .addSuccess(Schema.Array(CallbackTask))
      .addError(ApiError.BadRequest)
      .annotate(OpenApi.Identifier, "list_callback_tasks")
  )
  .add(
    HttpApiEndpoint.post("create", "/api/v1/callback-tasks")
      .setPayload(CreateCallbackTaskRequest)
      .addSuccess(CallbackTask, { status: 201 })
      .addError(ApiError.BadRequest)
      .annotate(OpenApi.Identifier, "create_callback_task")
  )
  .add(
    HttpApiEndpoint.get("get", "/api/v1/callback-tasks/:id")
      .setPath(TaskPath)
      .addSuccess(CallbackTask)
      .addError(ApiError.NotFound)
      .annotate(OpenApi.Identifier, "get_callback_task")
  )
  .add(
    HttpApiEndpoint.patch("update", "/api/v1/callback-tasks/:id")
      .setPath(TaskPath)
      .setPayload(UpdateCallbackTaskRequest)
      .addSuccess(CallbackTask)
      .addError(ApiError.BadRequest)
      .addError(ApiError.NotFound)
      .annotate(OpenApi.Identifier, "update_callback_task")
  )
  .add(transition("acknowledge", "acknowledge", AcknowledgeCallbackTaskRequest, "acknowledge_callback_task"))
  .add(transition("assign", "assign", AssignCallbackTaskRequest, "assign_callback_task"))
  .add(transition("claim", "claim", ClaimCallbackTaskRequest, "claim_callback_task"))
  .add(transition("release", "release", ReleaseCallbackTaskRequest, "release_callback_task"))
  .add(transition("snooze", "snooze", SnoozeCallbackTaskRequest, "snooze_callback_task"))
  .add(transition("unsnooze", "unsnooze", UnsnoozeCallbackTaskRequest, "unsnooze_callback_task"))
  .addError(ApiError.Unavailable)
  .addError(ApiError.ServerError)
  .middleware(TenantAuth)
  .annotate(OpenApi.Title, "operations")
{}

/** Callback tasks across tenants (admin). */
export class AdminCallbackTasksApi extends HttpApiGroup.make("adminCallbackTasks")
  .add(
    HttpApiEndpoint.get("list", "/api/v1/admin/callback-tasks")
      .setUrlParams(Schema.Struct({ ...TaskFilterParams, tenant_id: Schema.optional(Schema.String) }))
      .addSuccess(AdminCallbackTasksResponse)
      .addError(AdminError.BadRequest)
      .annotate(OpenApi.Identifier, "list_callback_tasks_admin")
  )
  .addError(AdminError.Unavailable)
  .middleware(AdminAuth)
  .annotate(OpenApi.Title, "admin")
{}
