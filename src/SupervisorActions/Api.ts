import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { AdminAuth, TenantAuth } from "../Auth/Middleware.js"
import { AdminError, ApiError } from "../Http/Errors.js"
import { LimitParam, OffsetParam } from "../Http/Schemas.js"
import { AdminSupervisorActionsResponse, SupervisorActionLog, SupervisorActionType } from "./Schemas.js"

const Filters = {
  stream_sid: Schema.optional(Schema.String),
  action: Schema.optional(SupervisorActionType),
  limit: Schema.optional(LimitParam(200)),
  offset: Schema.optional(OffsetParam)
}

export class SupervisorActionsApi extends HttpApiGroup.make("supervisorActions")
  .add(
    HttpApiEndpoint.get("list", "/api/v1/supervisor-actions")
      .setUrlParams(Schema.Struct(Filters))
      .addSuccess(Schema.Array(SupervisorActionLog))
      .addError(ApiError.BadRequest)
      .annotate(OpenApi.Identifier, "list_supervisor_actions")
  )
  .addError(ApiError.Unavailable)
  .addError(ApiError.ServerError)
  .middleware(TenantAuth)
  .annotate(OpenApi.Title, "operations")
{}

export class AdminSupervisorActionsApi extends HttpApiGroup.make("adminSupervisorActions")
  .add(
    HttpApiEndpoint.get("list", "/api/v1/admin/supervisor-actions")
      .setUrlParams(Schema.Struct({ ...Filters, tenant_id: Schema.optional(Schema.String) }))
      .addSuccess(AdminSupervisorActionsResponse)
      .addError(AdminError.BadRequest)
      .annotate(OpenApi.Identifier, "list_supervisor_actions_admin")
  )
  .addError(AdminError.Unavailable)
  .middleware(AdminAuth)
  .annotate(OpenApi.Title, "admin")
{}
