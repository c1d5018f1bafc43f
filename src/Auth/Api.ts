import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { AdminError } from "../Http/Errors.js"
import { BoundedString, NonNegativeInt, optionalNullable, Text } from "../Http/Schemas.js"
import { AdminAuth, AdminSessionProbe } from "./Middleware.js"

export class AdminLoginRequest extends Schema.Class<AdminLoginRequest>("AdminLoginRequest")({
  password: BoundedString(1_024),
  username: Text.Name
}) {}

export class AdminLoginResponse extends Schema.Class<AdminLoginResponse>("AdminLoginResponse")({
  ok: Schema.Boolean,
  username: Schema.String
}) {}

export class AdminSessionStatusResponse extends Schema.Class<AdminSessionStatusResponse>("AdminSessionStatusResponse")({
  authenticated: Schema.Boolean,
  login_enabled: Schema.Boolean,
  ok: Schema.Boolean,
  username: optionalNullable(Schema.String),
  workos_authorize_url: optionalNullable(Schema.String),
  workos_enabled: Schema.Boolean
}) {}

export class AdminAuthTransportDiagnostics extends Schema.Class<AdminAuthTransportDiagnostics>("AdminAuthTransportDiagnostics")({
  legacy_query_auth_enabled: Schema.Boolean,
  stream_auth_previous_configured: Schema.Boolean,
  stream_auth_primary_configured: Schema.Boolean,
  stream_auth_secret_count: NonNegativeInt
}) {}

export class AdminAuthTransportResponse extends Schema.Class<AdminAuthTransportResponse>("AdminAuthTransportResponse")({
  auth_transport: AdminAuthTransportDiagnostics,
  ok: Schema.Boolean
}) {}

export class AdminAuthTransportAlert extends Schema.Class<AdminAuthTransportAlert>("AdminAuthTransportAlert")({
  action: Schema.String,
  code: Schema.String,
  message: Schema.String,
  severity: Schema.String
}) {}

export class AdminAuthTransportAlertsResponse extends Schema.Class<AdminAuthTransportAlertsResponse>("AdminAuthTransportAlertsResponse")({
  alerts: Schema.Array(AdminAuthTransportAlert),
  count: NonNegativeInt,
  diagnostics: AdminAuthTransportDiagnostics,
  ok: Schema.Boolean,
  status: Schema.String
}) {}

export class AdminVoiceDashboardTenant extends Schema.Class<AdminVoiceDashboardTenant>("AdminVoiceDashboardTenant")({
  auth_token: Schema.String,
  display_name: optionalNullable(Schema.String),
  org_id: optionalNullable(Schema.String),
  tenant_id: Schema.String
}) {}

export class AdminVoiceDashboardBootstrapResponse extends Schema.Class<AdminVoiceDashboardBootstrapResponse>("AdminVoiceDashboardBootstrapResponse")({
  actor: Schema.String,
  count: NonNegativeInt,
  ok: Schema.Boolean,
  tenants: Schema.Array(AdminVoiceDashboardTenant)
}) {}

export class AdminAuthApi extends HttpApiGroup.make("adminAuth")
  .add(
    HttpApiEndpoint.post("login", "/api/v1/admin/auth/login")
      .setPayload(AdminLoginRequest)
      .addSuccess(AdminLoginResponse)
      .addError(AdminError.Unauthorized)
      .addError(AdminError.NotFound)
      .addError(AdminError.RateLimited)
      .addError(AdminError.Unavailable)
      .annotate(OpenApi.Identifier, "admin_login")
  )
  .add(
    HttpApiEndpoint.post("logout", "/api/v1/admin/auth/logout")
      .addSuccess(AdminSessionStatusResponse)
      .middleware(AdminSessionProbe)
      .annotate(OpenApi.Identifier, "admin_logout")
  )
  .add(
    HttpApiEndpoint.get("session", "/api/v1/admin/auth/session")
      .addSuccess(AdminSessionStatusResponse)
      .middleware(AdminSessionProbe)
      .annotate(OpenApi.Identifier, "get_admin_session_status")
  )
  .add(
    HttpApiEndpoint.get("transport", "/api/v1/admin/auth/transport")
      .addSuccess(AdminAuthTransportResponse)
      .middleware(AdminAuth)
      .annotate(OpenApi.Identifier, "get_auth_transport_diagnostics")
  )
  .add(
    HttpApiEndpoint.get("transportAlerts", "/api/v1/admin/alerts/auth-transport")
      .addSuccess(AdminAuthTransportAlertsResponse)
      .middleware(AdminAuth)
      .annotate(OpenApi.Identifier, "get_auth_transport_alerts")
  )
  .add(
    HttpApiEndpoint.get("dashboardBootstrap", "/api/v1/admin/voice-dashboard/bootstrap")
      .addSuccess(AdminVoiceDashboardBootstrapResponse)
      .middleware(AdminAuth)
      .annotate(OpenApi.Identifier, "get_voice_dashboard_bootstrap")
  )
  .annotate(OpenApi.Title, "admin")
{}
