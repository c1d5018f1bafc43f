import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { Effect, FiberRef, HashMap, Layer, Option, Redacted } from "effect"
import { AppConfig } from "../Config.js"
import { AdminNotFound, AdminUnauthorized, AdminUnavailable } from "../Http/Errors.js"
import { AdminSessions } from "./AdminSessions.js"
import { constantTimeEquals } from "./Crypto.js"
import { AdminAuth, AdminSessionProbe, CurrentAdmin } from "./Middleware.js"

const disabled = Effect.fail(new AdminNotFound({ message: "Admin endpoints are disabled" }))

const signedIn = (actor: string) =>
  FiberRef.update(FiberRef.currentLogAnnotations, HashMap.set("admin_actor", actor as unknown)).pipe(
    Effect.as(CurrentAdmin.of({ actor }))
  )

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"])

/**
 * CSRF defence for the session cookie, beside its SameSite=Strict: a state-changing request
 * that a browser says comes from another site (Sec-Fetch-Site, or an Origin naming another
 * host) is refused. Clients that are not browsers send neither header.
 */
const crossSiteWrite = (request: HttpServerRequest.HttpServerRequest, publicHost: string): string | undefined => {
  if (SAFE_METHODS.has(request.method)) return undefined
  const site = request.headers["sec-fetch-site"]
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    return `Cross-site request refused (Sec-Fetch-Site: ${site.slice(0, 40)})`
  }
  const origin = request.headers["origin"]
  if (origin === undefined) return undefined
  const originHost = URL.canParse(origin) ? new URL(origin).host : undefined
  if (originHost !== undefined && (originHost === request.headers["host"] || originHost === publicHost)) return undefined
  return `Cross-site request refused (Origin ${origin.slice(0, 100)} is not this service)`
}

/**
 * `x-admin-key` first, then the session cookie (HttpApi tries the schemes in order and
 * reports the last failure, so the cookie branch words the error for both).
 */
export const AdminAuthLive = Layer.effect(
  AdminAuth,
  Effect.gen(function*() {
    const config = yield* AppConfig
    const sessions = yield* AdminSessions
    const publicHost = URL.canParse(config.publicBaseUrl) ? new URL(config.publicBaseUrl).host : ""

    return {
      admin_key: (key: Redacted.Redacted) => {
        if (!config.adminEnabled) return disabled
        const provided = Redacted.value(key)
        if (provided === "" || Option.isNone(config.adminApiKey)) {
          return Effect.fail(new AdminUnauthorized({ message: "Missing admin credentials" }))
        }
        return constantTimeEquals(Redacted.value(config.adminApiKey.value), provided)
          ? signedIn("admin_key")
          : Effect.fail(new AdminUnauthorized({ message: "Invalid admin key" }))
      },
      admin_session: (cookie: Redacted.Redacted) =>
        Effect.gen(function*() {
          if (!config.adminEnabled) return yield* disabled
          const request = yield* HttpServerRequest.HttpServerRequest
          const crossSite = crossSiteWrite(request, publicHost)
          if (crossSite !== undefined) return yield* new AdminUnauthorized({ message: crossSite })
          const username = yield* sessions.session(Redacted.value(cookie))
          if (username !== undefined) return yield* signedIn(username)
          const message = (request.headers["x-admin-key"] ?? "") !== ""
            ? "Invalid admin key"
            : Redacted.value(cookie) !== ""
            ? "Admin session expired or invalid"
            : "Missing admin credentials: send x-admin-key or sign in"
          return yield* new AdminUnauthorized({ message })
        }).pipe(
          Effect.catchTag("DatabaseUnavailable", () =>
            Effect.fail(new AdminUnavailable({ message: "Database unavailable; try again shortly" })))
        )
    }
  })
)

/** The probe only documents credentials; the endpoints read them themselves. */
export const AdminSessionProbeLive = Layer.succeed(AdminSessionProbe, {
  admin_session: () => Effect.void,
  admin_key: () => Effect.void
})
