import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { AdminAuth, TenantAuth } from "../Auth/Middleware.js"
import { AdminError, ApiError } from "../Http/Errors.js"
import { NonNegativeInt, optionalNullable } from "../Http/Schemas.js"

const sessionFields = {
  agent_name: optionalNullable(Schema.String),
  call_type: optionalNullable(Schema.String),
  customer_phone: optionalNullable(Schema.String),
  escalated: Schema.Boolean,
  escalation_target: optionalNullable(Schema.String),
  greeting: optionalNullable(Schema.String),
  org_id: optionalNullable(Schema.String),
  started_at: Schema.String,
  stream_sid: Schema.String
}

export class SessionInfo extends Schema.Class<SessionInfo>("SessionInfo")(sessionFields) {}

export class SessionsListResponse extends Schema.Class<SessionsListResponse>("SessionsListResponse")({
  ok: Schema.Boolean,
  sessions: Schema.Array(SessionInfo),
  tenant: Schema.String
}) {}

export class AdminSessionInfo extends Schema.Class<AdminSessionInfo>("AdminSessionInfo")({
  ...sessionFields,
  tenant: Schema.String
}) {}

export class AdminSessionsResponse extends Schema.Class<AdminSessionsResponse>("AdminSessionsResponse")({
  count: NonNegativeInt,
  ok: Schema.Boolean,
  sessions: Schema.Array(AdminSessionInfo)
}) {}

/** The tenant's live calls, on every replica (read from the ledger), oldest first. */
export class LiveSessionsApi extends HttpApiGroup.make("liveSessions")
  .add(
    HttpApiEndpoint.get("list", "/api/v1/sessions")
      .addSuccess(SessionsListResponse)
      .annotate(OpenApi.Identifier, "list_sessions")
  )
  .addError(ApiError.Unavailable)
  .middleware(TenantAuth)
  .annotate(OpenApi.Title, "sessions")
{}

/** Every live call on every replica, oldest first. */
export class AdminLiveSessionsApi extends HttpApiGroup.make("adminLiveSessions")
  .add(
    HttpApiEndpoint.get("list", "/api/v1/admin/sessions")
      .addSuccess(AdminSessionsResponse)
      .annotate(OpenApi.Identifier, "list_active_sessions")
  )
  .addError(AdminError.Unavailable)
  .middleware(AdminAuth)
  .annotate(OpenApi.Title, "admin")
{}
