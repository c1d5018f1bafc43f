import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Effect, Either, Option, Redacted } from "effect"
import { Api } from "../Api.js"
import { AppConfig } from "../Config.js"
import { asAdminErrors } from "../Http/ErrorMapping.js"
import { clientAddress } from "../Http/ClientAddress.js"
import { setResponseHeader } from "../Http/Headers.js"
import { runnableTenant } from "../Tenants/Domain.js"
import { Tenants } from "../Tenants/Tenants.js"
import { ADMIN_SESSION_TTL_SECONDS, AdminSessions } from "./AdminSessions.js"
import {
  AdminAuthTransportAlertsResponse,
  AdminAuthTransportResponse,
  AdminLoginResponse,
  AdminSessionStatusResponse,
  AdminVoiceDashboardBootstrapResponse,
  AdminVoiceDashboardTenant
} from "./Api.js"
import { constantTimeEquals } from "./Crypto.js"
import { DashboardTokens } from "./DashboardTokens.js"
import { ADMIN_SESSION_COOKIE, CurrentAdmin } from "./Middleware.js"
import { alertStatus, transportAlerts, transportDiagnostics } from "./TransportDiagnostics.js"

const DASHBOARD_TENANT_LIMIT = 500

const sessionCookie = (token: string, maxAgeSeconds: number, secure: boolean) =>
  [
    `${ADMIN_SESSION_COOKIE}=${token}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Strict",
    `Max-Age=${maxAgeSeconds}`,
    ...(secure ? ["Secure"] : [])
  ].join("; ")

export const AdminAuthHttp = HttpApiBuilder.group(Api, "adminAuth", (handlers) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    const sessions = yield* AdminSessions
    const tenants = yield* Tenants
    const dashboardTokens = yield* DashboardTokens
    const secureCookie = config.publicBaseUrl.startsWith("https://")

    const sessionToken = Effect.map(HttpServerRequest.HttpServerRequest, (request) => request.cookies[ADMIN_SESSION_COOKIE] ?? "")

    const status = (username: string | undefined) =>
      new AdminSessionStatusResponse({
        ok: true,
        authenticated: username !== undefined,
        username: username ?? null,
        login_enabled: config.adminLoginEnabled,
        workos_enabled: false,
        workos_authorize_url: null
      })

    return handlers
      .handle("login", ({ payload, request }) =>
        sessions.login(payload.username, payload.password, clientAddress(request)).pipe(
          Effect.tap(({ token }) =>
            setResponseHeader("set-cookie", sessionCookie(token, ADMIN_SESSION_TTL_SECONDS, secureCookie))
          ),
          Effect.map(({ username }) => new AdminLoginResponse({ ok: true, username })),
          asAdminErrors
        ))
      .handle("logout", () =>
        Effect.gen(function*() {
          yield* sessions.logout(yield* sessionToken)
          yield* setResponseHeader("set-cookie", sessionCookie("", 0, secureCookie))
          return status(undefined)
        }).pipe(Effect.orElseSucceed(() => status(undefined))))
      .handle("session", () =>
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          const username = yield* sessions.session(yield* sessionToken)
          if (username !== undefined) return status(username)
          // An admin key is a credential too; report it as the actor.
          const key = request.headers["x-admin-key"] ?? ""
          const keyValid = key !== "" &&
            Option.exists(config.adminApiKey, (expected) => constantTimeEquals(Redacted.value(expected), key))
          return status(keyValid ? "admin_key" : undefined)
        }).pipe(Effect.orElseSucceed(() => status(undefined))))
      .handle("transport", () =>
        Effect.succeed(new AdminAuthTransportResponse({ ok: true, auth_transport: transportDiagnostics(config) })))
      .handle("transportAlerts", () => {
        const alerts = transportAlerts(config)
        return Effect.succeed(new AdminAuthTransportAlertsResponse({
          ok: true,
          status: alertStatus(alerts),
          count: alerts.length,
          alerts,
          diagnostics: transportDiagnostics(config)
        }))
      })
      .handle("dashboardBootstrap", () =>
        Effect.gen(function*() {
          const admin = yield* CurrentAdmin
          const { tenants: stored } = yield* tenants.list(DASHBOARD_TENANT_LIMIT, 0)
          const items = yield* Effect.forEach(stored, (tenant) => {
            // A tenant out of service is still listed, without the names its document would give.
            const config = Either.getOrUndefined(runnableTenant(tenant))?.config
            return Effect.map(dashboardTokens.mint(tenant.tenantId), (token) =>
              new AdminVoiceDashboardTenant({
                tenant_id: tenant.tenantId,
                auth_token: token,
                display_name: config?.display_name ?? null,
                org_id: config?.org_id ?? null
              }))
          })
          return new AdminVoiceDashboardBootstrapResponse({ ok: true, actor: admin.actor, count: items.length, tenants: items })
        }).pipe(asAdminErrors))
  }))
