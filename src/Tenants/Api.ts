import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { AdminAuth } from "../Auth/Middleware.js"
import { AdminError } from "../Http/Errors.js"
import { AnyJson, LimitParam, NonNegativeInt, OffsetParam, optionalNullable } from "../Http/Schemas.js"
import { TenantConfigDocument, TenantRuntimeConfigPatch } from "./Domain.js"

export class AdminTenantItem extends Schema.Class<AdminTenantItem>("AdminTenantItem")({
  config: AnyJson,
  etag: Schema.String,
  tenant_id: Schema.String
}) {}

export class ListTenantsResponse extends Schema.Class<ListTenantsResponse>("ListTenantsResponse")({
  count: NonNegativeInt,
  ok: Schema.Boolean,
  tenants: Schema.Array(AdminTenantItem)
}) {}

export class TenantResponse extends Schema.Class<TenantResponse>("TenantResponse")({
  config: AnyJson,
  etag: Schema.String,
  ok: Schema.Boolean,
  tenant_id: Schema.String
}) {}

export class TenantMutationResponse extends Schema.Class<TenantMutationResponse>("TenantMutationResponse")({
  ok: Schema.Boolean,
  tenant_id: Schema.String
}) {}

export class ValidateTenantResponse extends Schema.Class<ValidateTenantResponse>("ValidateTenantResponse")({
  error: optionalNullable(Schema.String),
  ok: Schema.Boolean,
  runtime: Schema.optional(AnyJson)
}) {}

const TenantIdPath = Schema.Struct({ tenant_id: Schema.String.annotations({ description: "Tenant identifier" }) })

const IfMatchHeader = Schema.Struct({
  "if-match": Schema.optional(Schema.String).annotations({
    description: "Optional ETag precondition for optimistic concurrency"
  })
})

const Pagination = Schema.Struct({
  limit: Schema.optional(LimitParam(500)),
  offset: Schema.optional(OffsetParam)
})

/** Tenant configuration documents (admin). Secrets are accepted on write and redacted on every read. */
export class TenantsApi extends HttpApiGroup.make("tenants")
  .add(
    HttpApiEndpoint.get("list", "/api/v1/admin/tenants")
      .setUrlParams(Pagination)
      .addSuccess(ListTenantsResponse)
      .addError(AdminError.ServerError)
      .annotate(OpenApi.Identifier, "list_tenants")
  )
  .add(
    HttpApiEndpoint.post("validate", "/api/v1/admin/tenants/validate")
      .setPayload(TenantConfigDocument)
      .addSuccess(ValidateTenantResponse)
      .addError(AdminError.BadRequest)
      .annotate(OpenApi.Identifier, "validate_tenant")
  )
  .add(
    HttpApiEndpoint.get("get", "/api/v1/admin/tenants/:tenant_id")
      .setPath(TenantIdPath)
      .addSuccess(TenantResponse)
      .addError(AdminError.ServerError)
      .annotate(OpenApi.Identifier, "get_tenant")
  )
  .add(
    HttpApiEndpoint.put("upsert", "/api/v1/admin/tenants/:tenant_id")
      .setPath(TenantIdPath)
      .setHeaders(IfMatchHeader)
      .setPayload(TenantConfigDocument)
      .addSuccess(TenantMutationResponse)
      .addError(AdminError.BadRequest)
      .addError(AdminError.PreconditionFailed)
      .addError(AdminError.ServerError)
      .annotate(OpenApi.Identifier, "upsert_tenant")
  )
  .add(
    HttpApiEndpoint.del("delete", "/api/v1/admin/tenants/:tenant_id")
      .setPath(TenantIdPath)
      .addSuccess(TenantMutationResponse)
      .addError(AdminError.ServerError)
      .annotate(OpenApi.Identifier, "delete_tenant")
  )
  .add(
    HttpApiEndpoint.get("runtime", "/api/v1/admin/tenants/:tenant_id/runtime")
      .setPath(TenantIdPath)
      .addSuccess(TenantResponse)
      .addError(AdminError.ServerError)
      .annotate(OpenApi.Identifier, "get_tenant_runtime")
  )
  .add(
    HttpApiEndpoint.put("patchRuntimeConfig", "/api/v1/admin/tenants/:tenant_id/runtime-config")
      .setPath(TenantIdPath)
      .setHeaders(IfMatchHeader)
      .setPayload(TenantRuntimeConfigPatch)
      .addSuccess(TenantResponse)
      .addError(AdminError.BadRequest)
      .addError(AdminError.PreconditionFailed)
      .addError(AdminError.ServerError)
      .annotate(OpenApi.Identifier, "update_tenant_runtime_config")
  )
  .add(
    HttpApiEndpoint.post("reload", "/api/v1/admin/tenants/:tenant_id/reload")
      .setPath(TenantIdPath)
      .addSuccess(TenantResponse)
      .addError(AdminError.ServerError)
      .annotate(OpenApi.Identifier, "reload_tenant")
  )
  .middleware(AdminAuth)
  .annotate(OpenApi.Title, "admin")
{}
