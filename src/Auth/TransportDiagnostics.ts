import { Option, Redacted } from "effect"
import type { AppConfig } from "../Config.js"
import { AdminAuthTransportAlert, AdminAuthTransportDiagnostics } from "./Api.js"

/** How callers may authenticate, as configured on this replica. */
export const transportDiagnostics = (config: AppConfig) =>
  new AdminAuthTransportDiagnostics({
    legacy_query_auth_enabled: config.legacyTenantBearerAuthEnabled,
    stream_auth_primary_configured: Option.isSome(config.streamTokenSecret),
    stream_auth_previous_configured: Option.isSome(config.streamTokenSecretPrevious),
    // A shared secret is generated (and stored) when none is configured, so there is always one.
    stream_auth_secret_count: 1 + (Option.isSome(config.streamTokenSecretPrevious) ? 1 : 0)
  })

/** Configuration an operator should act on, most severe first. */
export const transportAlerts = (config: AppConfig): ReadonlyArray<AdminAuthTransportAlert> => {
  const alerts: Array<AdminAuthTransportAlert> = []
  if (Option.isSome(config.adminApiKey) && Redacted.value(config.adminApiKey.value).length < 24) {
    alerts.push(new AdminAuthTransportAlert({
      severity: "critical",
      code: "ADMIN_API_KEY_WEAK",
      message: "ADMIN_API_KEY is shorter than 24 characters",
      action: "Set ADMIN_API_KEY to a long random value (32+ characters)"
    }))
  }
  if (Option.isNone(config.streamTokenSecret)) {
    alerts.push(new AdminAuthTransportAlert({
      severity: "warning",
      code: "STREAM_TOKEN_SECRET_GENERATED",
      message: "STREAM_TOKEN_SECRET is not set; media stream tokens are signed with a generated secret kept in the database",
      action: "Set STREAM_TOKEN_SECRET on every replica so the signing key is managed with your other secrets"
    }))
  }
  if (config.legacyTenantBearerAuthEnabled) {
    alerts.push(new AdminAuthTransportAlert({
      severity: "warning",
      code: "LEGACY_TENANT_BEARER_ENABLED",
      message: "Legacy tenant auth_token bearer credentials are accepted",
      action: "Issue tenant API keys, then set LEGACY_TENANT_BEARER_AUTH_ENABLED=false"
    }))
  }
  if (Option.isSome(config.streamTokenSecretPrevious)) {
    alerts.push(new AdminAuthTransportAlert({
      severity: "info",
      code: "STREAM_TOKEN_ROTATION_IN_PROGRESS",
      message: "STREAM_TOKEN_SECRET_PREVIOUS is still accepted",
      action: "Remove STREAM_TOKEN_SECRET_PREVIOUS once tokens issued before the rotation have expired"
    }))
  }
  return alerts
}

export const alertStatus = (alerts: ReadonlyArray<AdminAuthTransportAlert>): string =>
  alerts.some((a) => a.severity === "critical") ? "critical" : alerts.some((a) => a.severity === "warning") ? "warning" : "ok"
