import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { AdminAuth } from "../Auth/Middleware.js"
import { AccessRequestError, AdminError } from "../Http/Errors.js"
import { AnyJson, LimitParam, NonNegativeInt, OffsetParam, optionalNullable, Timestamp } from "../Http/Schemas.js"

export class ApiAccessRequestInput extends Schema.Class<ApiAccessRequestInput>("ApiAccessRequestInput")({
  company_name: Schema.String,
  company_website_confirm: optionalNullable(Schema.String),
  contact_name: Schema.String,
  expected_monthly_minutes: optionalNullable(Schema.String),
  phone: optionalNullable(Schema.String),
  role: optionalNullable(Schema.String),
  timeline: optionalNullable(Schema.String),
  use_case: Schema.String,
  website: optionalNullable(Schema.String),
  work_email: Schema.String
}) {}

export class ApiAccessRequestSubmitResponse extends Schema.Class<ApiAccessRequestSubmitResponse>("ApiAccessRequestSubmitResponse")({
  message: Schema.String,
  ok: Schema.Boolean,
  request_id: Schema.String
}) {}

export class ApiAccessRequest extends Schema.Class<ApiAccessRequest>("ApiAccessRequest")({
  company_name: Schema.String,
  contact_name: Schema.String,
  created_at: Timestamp,
  expected_monthly_minutes: optionalNullable(Schema.String),
  id: Schema.String,
  metadata: AnyJson,
  phone: optionalNullable(Schema.String),
  remote_addr: optionalNullable(Schema.String),
  reviewed_at: optionalNullable(Timestamp),
  role: optionalNullable(Schema.String),
  source: Schema.String,
  status: Schema.String,
  timeline: optionalNullable(Schema.String),
  use_case: Schema.String,
  user_agent: optionalNullable(Schema.String),
  website: optionalNullable(Schema.String),
  work_email: Schema.String
}) {}

export class AdminApiAccessRequestsResponse extends Schema.Class<AdminApiAccessRequestsResponse>("AdminApiAccessRequestsResponse")({
  count: NonNegativeInt,
  ok: Schema.Boolean,
  requests: Schema.Array(ApiAccessRequest)
}) {}

/** Public intake for prospects asking for Voice API access. */
export class AccessApi extends HttpApiGroup.make("access")
  .add(
    HttpApiEndpoint.post("submit", "/api/v1/access-requests")
      .setPayload(ApiAccessRequestInput)
      .addSuccess(ApiAccessRequestSubmitResponse, { status: 202 })
      .addError(AccessRequestError.Invalid)
      .addError(AccessRequestError.Unavailable)
      .annotate(OpenApi.Identifier, "submit_api_access_request")
  )
  .annotate(OpenApi.Title, "access")
{}

/** The team's review queue of access requests. */
export class AccessAdminApi extends HttpApiGroup.make("accessAdmin")
  .add(
    HttpApiEndpoint.get("list", "/api/v1/admin/api-access-requests")
      .setUrlParams(Schema.Struct({
        status: Schema.optional(Schema.String).annotations({ description: "Filter requests by review status." }),
        limit: Schema.optional(LimitParam(200)).annotations({ description: "Maximum number of requests to return." }),
        offset: Schema.optional(OffsetParam).annotations({ description: "Offset for pagination." })
      }))
      .addSuccess(AdminApiAccessRequestsResponse)
      .addError(AdminError.Unavailable)
      .annotate(OpenApi.Identifier, "list_api_access_requests")
  )
  .middleware(AdminAuth)
  .annotate(OpenApi.Title, "admin")
{}
