import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as OpenApi from "@effect/platform/OpenApi"
import { Context, Schema } from "effect"
import { AdminError, ApiError } from "../Http/Errors.js"
import type { TenantConfig } from "../Tenants/Config.js"

/** The tenant a request acts for, resolved from its bearer credential. */
export class CurrentTenant extends Context.Tag("CurrentTenant")<CurrentTenant, {
  readonly tenantId: string
  readonly orgId: string | null
  readonly config: TenantConfig
  readonly credential: "api_key" | "legacy_token" | "dashboard_token"
}>() {}

/** Who is acting on an admin endpoint: `admin_key` or the logged-in username. */
export class CurrentAdmin extends Context.Tag("CurrentAdmin")<CurrentAdmin, { readonly actor: string }>() {}

export const bearerAuth = HttpApiSecurity.bearer.pipe(HttpApiSecurity.annotate(OpenApi.Format, "Bearer"))

export const adminKey = HttpApiSecurity.apiKey({ key: "x-admin-key", in: "header" }).pipe(
  HttpApiSecurity.annotate(OpenApi.Description, "Admin API key header. Required when ADMIN_API_KEY is configured.")
)

export const ADMIN_SESSION_COOKIE = "stateset_admin_session"

export const adminSession = HttpApiSecurity.apiKey({ key: ADMIN_SESSION_COOKIE, in: "cookie" }).pipe(
  HttpApiSecurity.annotate(OpenApi.Description, "HttpOnly browser session cookie created by the admin login endpoint.")
)

/** Tenant endpoints: API key, legacy tenant token or dashboard token as `Authorization: Bearer`. */
export class TenantAuth extends HttpApiMiddleware.Tag<TenantAuth>()("TenantAuth", {
  failure: Schema.Union(ApiError.Unauthorized, ApiError.RateLimited, ApiError.Unavailable),
  provides: CurrentTenant,
  security: { bearer_auth: bearerAuth }
}) {}

/** Admin endpoints: `x-admin-key`, or the browser session cookie. 404 while admin is disabled. */
export class AdminAuth extends HttpApiMiddleware.Tag<AdminAuth>()("AdminAuth", {
  failure: Schema.Union(AdminError.Unauthorized, AdminError.NotFound, AdminError.Unavailable),
  provides: CurrentAdmin,
  security: { admin_key: adminKey, admin_session: adminSession }
}) {}

/**
 * Session status and logout answer 200 whether or not the caller is signed in; this
 * middleware only documents which credentials they read.
 */
export class AdminSessionProbe extends HttpApiMiddleware.Tag<AdminSessionProbe>()("AdminSessionProbe", {
  optional: true,
  security: { admin_session: adminSession, admin_key: adminKey }
}) {}
