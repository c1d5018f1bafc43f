import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { AdminAuth } from "../Auth/Middleware.js"
import { AdminError } from "../Http/Errors.js"
import { Int, NonNegativeInt, optionalNullable, Text, Timestamp, Uuid } from "../Http/Schemas.js"
import { TenantIdPath } from "../Agents/Api.js"

export const PhoneNumberRouteDirection = Schema.Literal("inbound", "outbound", "sip_inbound", "sip_outbound")
  .annotations({ identifier: "PhoneNumberRouteDirection" })

export type PhoneNumberRouteDirection = typeof PhoneNumberRouteDirection.Type

export class PhoneNumberRoute extends Schema.Class<PhoneNumberRoute>("PhoneNumberRoute")({
  agent_id: Uuid,
  agent_key: Schema.String,
  agent_name: Schema.String,
  agent_version_id: optionalNullable(Uuid),
  created_at: Timestamp,
  direction: PhoneNumberRouteDirection,
  greeting: optionalNullable(Schema.String),
  id: Uuid,
  phone_number: Schema.String,
  resolved_agent_version_id: optionalNullable(Uuid),
  resolved_version_number: optionalNullable(Int),
  tenant_id: Schema.String,
  updated_at: Timestamp
}) {}

/** E.164: '+', a non-zero country digit, 7-15 digits in all. */
const E164 = Schema.String.pipe(
  Schema.pattern(/^\+[1-9]\d{6,14}$/, {
    message: () => "phone_number must be an E.164 number such as +15555550123"
  })
)

export class UpsertPhoneNumberRoute extends Schema.Class<UpsertPhoneNumberRoute>("UpsertPhoneNumberRoute")({
  agent_id: Uuid,
  agent_version_id: optionalNullable(Uuid),
  direction: PhoneNumberRouteDirection,
  greeting: optionalNullable(Text.Short),
  id: optionalNullable(Uuid),
  phone_number: E164
}) {}

export class AdminPhoneNumberRouteResponse extends Schema.Class<AdminPhoneNumberRouteResponse>("AdminPhoneNumberRouteResponse")({
  ok: Schema.Boolean,
  route: PhoneNumberRoute
}) {}

export class AdminPhoneNumberRoutesResponse extends Schema.Class<AdminPhoneNumberRoutesResponse>("AdminPhoneNumberRoutesResponse")({
  count: NonNegativeInt,
  ok: Schema.Boolean,
  routes: Schema.Array(PhoneNumberRoute)
}) {}

/** Which agent (and optionally which version) answers a tenant's phone numbers (admin). */
export class PhoneNumberRoutesApi extends HttpApiGroup.make("phoneNumberRoutes")
  .add(
    HttpApiEndpoint.get("list", "/api/v1/admin/tenants/:tenant_id/phone-number-routes")
      .setPath(TenantIdPath)
      .addSuccess(AdminPhoneNumberRoutesResponse)
      .annotate(OpenApi.Identifier, "list_phone_number_routes")
  )
  .add(
    HttpApiEndpoint.put("upsert", "/api/v1/admin/tenants/:tenant_id/phone-number-routes")
      .setPath(TenantIdPath)
      .setPayload(UpsertPhoneNumberRoute)
      .addSuccess(AdminPhoneNumberRouteResponse)
      .addError(AdminError.BadRequest)
      .annotate(OpenApi.Identifier, "upsert_phone_number_route")
  )
  .add(
    HttpApiEndpoint.del("delete", "/api/v1/admin/tenants/:tenant_id/phone-number-routes/:route_id")
      .setPath(Schema.Struct({
        tenant_id: Schema.String.annotations({ description: "Tenant identifier" }),
        route_id: Schema.String.annotations({ description: "Route id" })
      }))
      .addSuccess(AdminPhoneNumberRouteResponse)
      .annotate(OpenApi.Identifier, "delete_phone_number_route")
  )
  .addError(AdminError.NotFound)
  .addError(AdminError.Unavailable)
  .middleware(AdminAuth)
  .annotate(OpenApi.Title, "admin")
{}
