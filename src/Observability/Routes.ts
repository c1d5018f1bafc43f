import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Option, Redacted } from "effect"
import { constantTimeEquals } from "../Auth/Crypto.js"
import { AppConfig } from "../Config.js"
import { MetricsExport } from "./MetricsExport.js"
import { CONTENT_TYPE } from "./OpenMetrics.js"

/** `x-admin-key: K` or `Authorization: Bearer K` (what Prometheus' `authorization` sends). */
const presentedKey = (request: HttpServerRequest.HttpServerRequest): string | undefined => {
  const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")
  return request.headers["x-admin-key"] ?? bearer?.[1]
}

/**
 * `GET /metrics` on the main port, only with METRICS_ENABLED=true and no METRICS_PORT, and
 * only for the admin key: the main port is public, per-tenant numbers are not. Without an
 * admin key configured the route is not there (404).
 */
export const MetricsRoutesLive = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const config = yield* AppConfig
    if (!config.metricsEnabled || Option.isSome(config.metricsPort)) return
    if (Option.isNone(config.adminApiKey)) {
      return yield* Effect.logWarning("METRICS_ENABLED is set but ADMIN_API_KEY is not: /metrics stays off")
    }
    const adminKey = Redacted.value(config.adminApiKey.value)
    const metrics = yield* MetricsExport
    yield* router.get("/metrics", Effect.gen(function*() {
      const given = presentedKey(yield* HttpServerRequest.HttpServerRequest)
      if (given === undefined || !constantTimeEquals(given, adminKey)) {
        return HttpServerResponse.text("Unauthorized", { status: 401 })
      }
      return HttpServerResponse.text(yield* metrics.scrape, { contentType: CONTENT_TYPE })
    }))
  })
)
