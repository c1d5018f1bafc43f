import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { AdminAuth } from "../Auth/Middleware.js"
import { AdminError } from "../Http/Errors.js"
import { NonNegativeInt, optionalNullable, Timestamp, Uuid } from "../Http/Schemas.js"

export class TenantApiKeyMetadata extends Schema.Class<TenantApiKeyMetadata>("TenantApiKeyMetadata")({
  created_at: Timestamp,
  id: Uuid,
  key_prefix: Schema.String,
  label: optionalNullable(Schema.String),
  last_used_at: optionalNullable(Timestamp),
  revoked_at: optionalNullable(Timestamp)
}) {}

export class CreateTenantApiKey extends Schema.Class<CreateTenantApiKey>("CreateTenantApiKey")({
  label: optionalNullable(Schema.String)
}) {}

export class CreatedTenantApiKey extends Schema.Class<CreatedTenantApiKey>("CreatedTenantApiKey")({
  api_key: TenantApiKeyMetadata,
  token: Schema.String
}) {}

export class AdminCreatedTenantApiKeyResponse extends Schema.Class<AdminCreatedTenantApiKeyResponse>("AdminCreatedTenantApiKeyResponse")({
  created: CreatedTenantApiKey,
  ok: Schema.Boolean
}) {}

export class AdminTenantApiKeysResponse extends Schema.Class<AdminTenantApiKeysResponse>("AdminTenantApiKeysResponse")({
  api_keys: Schema.Array(TenantApiKeyMetadata),
  count: NonNegativeInt,
  ok: Schema.Boolean
}) {}

export class AdminTenantApiKeyResponse extends Schema.Class<AdminTenantApiKeyResponse>("AdminTenantApiKeyResponse")({
  api_key: TenantApiKeyMetadata,
  ok: Schema.Boolean
}) {}

const TenantIdPath = Schema.Struct({ tenant_id: Schema.String.annotations({ description: "Tenant identifier" }) })

/** Browser login for the admin dashboard, and what the admin credentials look like from inside. */
/** Tenant API keys: the token is shown once, at creation; only its hash is stored. */
export class TenantApiKeysApi extends HttpApiGroup.make("tenantApiKeys")
  .add(
    HttpApiEndpoint.get("list", "/api/v1/admin/tenants/:tenant_id/api-keys")
      .setPath(TenantIdPath)
      .addSuccess(AdminTenantApiKeysResponse)
      .annotate(OpenApi.Identifier, "list_tenant_api_keys")
  )
  .add(
    HttpApiEndpoint.post("create", "/api/v1/admin/tenants/:tenant_id/api-keys")
      .setPath(TenantIdPath)
      .setPayload(CreateTenantApiKey)
      .addSuccess(AdminCreatedTenantApiKeyResponse)
      .addError(AdminError.BadRequest)
      .annotate(OpenApi.Identifier, "create_tenant_api_key")
  )
  .add(
    HttpApiEndpoint.del("revoke", "/api/v1/admin/tenants/:tenant_id/api-keys/:key_id")
      .setPath(Schema.Struct({
        tenant_id: Schema.String.annotations({ description: "Tenant identifier" }),
        key_id: Uuid.annotations({ description: "Tenant API key ID" })
      }))
      .addSuccess(AdminTenantApiKeyResponse)
      .annotate(OpenApi.Identifier, "revoke_tenant_api_key")
  )
  .addError(AdminError.ServerError)
  .middleware(AdminAuth)
  .annotate(OpenApi.Title, "admin")
{}
