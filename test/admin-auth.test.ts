import { describe, expect } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { createHash } from "node:crypto"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { ADMIN_KEY, adminHeaders, bearer, request, serverSuite } from "./support/TestServer.js"

const login = (username: string, password: string, headers: Record<string, string> = {}) =>
  request("POST", "/api/v1/admin/auth/login", { json: { username, password }, headers })

const cookieOf = (setCookie: string | undefined) => setCookie?.split(";")[0] ?? ""

/** The tenant the dashboard and credential tests look at. */
const Acme = Layer.effectDiscard(
  request("PUT", "/api/v1/admin/tenants/acme", {
    headers: adminHeaders,
    json: { tenant_id: "acme", auth_token: "acme-token-0123456789" }
  }).pipe(Effect.filterOrDie((res) => res.status === 200, (res) => new Error(`tenant acme: ${res.status} ${res.text}`)))
)

describe("admin authentication", () => {
  serverSuite(
    { ADMIN_USERNAME: "ops", ADMIN_PASSWORD: "correct horse battery staple" },
    { seed: Acme }
  )("key and browser login", (it) => {
    it.effect("the admin key opens admin endpoints; a wrong or missing one is 401", () =>
      Effect.gen(function*() {
        expect((yield* request("GET", "/api/v1/admin/tenants", { headers: adminHeaders })).status).toBe(200)
        const wrong = yield* request("GET", "/api/v1/admin/tenants", { headers: { "x-admin-key": "nope" } })
        expect(wrong.status).toBe(401)
        expectSpecSchema(wrong.body, "AdminErrorResponse")
        expect(wrong.body).toEqual({ ok: false, error: "Invalid admin key" })
        const missing = yield* request("GET", "/api/v1/admin/tenants")
        expect(missing.status).toBe(401)
        expect(missing.body.error).toContain("Missing admin credentials")
      }))

    it.effect("a tenant credential never opens an admin endpoint", () =>
      Effect.gen(function*() {
        const key = yield* request("POST", "/api/v1/admin/tenants/acme/api-keys", { headers: adminHeaders, json: {} })
        for (const token of ["acme-token-0123456789", key.body.created.token]) {
          const res = yield* request("GET", "/api/v1/admin/tenants", { headers: bearer(token) })
          expect(res.status).toBe(401)
          const asKey = yield* request("GET", "/api/v1/admin/tenants", { headers: { "x-admin-key": token } })
          expect(asKey.status).toBe(401)
        }
      }))

    it.effect("login sets an HttpOnly SameSite=Strict session cookie that opens admin endpoints", () =>
      Effect.gen(function*() {
        const res = yield* login("ops", "correct horse battery staple")
        expect(res.status).toBe(200)
        expectSpecSchema(res.body, "AdminLoginResponse")
        expect(res.body).toEqual({ ok: true, username: "ops" })
        const setCookie = res.headers["set-cookie"]!
        expect(setCookie).toMatch(/^stateset_admin_session=[A-Za-z0-9_-]{43}; /)
        expect(setCookie).toContain("HttpOnly")
        expect(setCookie).toContain("SameSite=Strict")
        expect(setCookie).toContain("Max-Age=43200")
        expect(setCookie).not.toContain("Secure")
        const cookie = cookieOf(setCookie)

        const session = yield* request("GET", "/api/v1/admin/auth/session", { headers: { cookie } })
        expect(session.status).toBe(200)
        expectSpecSchema(session.body, "AdminSessionStatusResponse")
        expect(session.body).toMatchObject({ ok: true, authenticated: true, username: "ops", login_enabled: true, workos_enabled: false })

        const bootstrap = yield* request("GET", "/api/v1/admin/voice-dashboard/bootstrap", { headers: { cookie } })
        expect(bootstrap.status).toBe(200)
        expectSpecSchema(bootstrap.body, "AdminVoiceDashboardBootstrapResponse")
        expect(bootstrap.body.actor).toBe("ops")
        const acme = bootstrap.body.tenants.find((t: { tenant_id: string }) => t.tenant_id === "acme")
        // The dashboard gets a short-lived credential, never the tenant's own secret.
        expect(acme.auth_token).not.toBe("acme-token-0123456789")
        expect(acme.auth_token).toMatch(/^ssvd_/)
        const asTenant = yield* request("GET", "/status", { headers: bearer(acme.auth_token) })
        expect(asTenant.status).toBe(200)
        expect(asTenant.body.tenant).toBe("acme")

        const out = yield* request("POST", "/api/v1/admin/auth/logout", { headers: { cookie } })
        expect(out.status).toBe(200)
        expectSpecSchema(out.body, "AdminSessionStatusResponse")
        expect(out.body.authenticated).toBe(false)
        expect(out.headers["set-cookie"]).toContain("Max-Age=0")
        expect((yield* request("GET", "/api/v1/admin/tenants", { headers: { cookie } })).status).toBe(401)
        const after = yield* request("GET", "/api/v1/admin/auth/session", { headers: { cookie } })
        expect(after.body.authenticated).toBe(false)
      }))

    it.effect("session status reports an admin key as the actor", () =>
      Effect.gen(function*() {
        const res = yield* request("GET", "/api/v1/admin/auth/session", { headers: { "x-admin-key": ADMIN_KEY } })
        expect(res.body).toMatchObject({ authenticated: true, username: "admin_key" })
        const anonymous = yield* request("GET", "/api/v1/admin/auth/session")
        expect(anonymous.body).toMatchObject({ authenticated: false, username: null, login_enabled: true })
      }))

    it.effect("wrong passwords are 401 and throttled after repeated failures (429 with Retry-After)", () =>
      Effect.gen(function*() {
        const from = { "x-forwarded-for": "198.51.100.7" }
        for (let attempt = 0; attempt < 10; attempt++) {
          const res = yield* login("ops", `guess-${attempt}`, from)
          expect(res.status).toBe(401)
          expect(res.body).toEqual({ ok: false, error: "Invalid username or password" })
        }
        const throttled = yield* login("ops", "correct horse battery staple", from)
        expect(throttled.status).toBe(429)
        expectSpecSchema(throttled.body, "AdminErrorResponse")
        expect(Number(throttled.headers["retry-after"])).toBeGreaterThan(0)
      }))

    it.effect("login body errors are 400", () =>
      Effect.gen(function*() {
        const res = yield* request("POST", "/api/v1/admin/auth/login", { json: { username: "ops" } })
        expect(res.status).toBe(400)
        expect(res.body.error).toContain("password")
      }))

    it.effect("transport diagnostics and alerts describe the configuration", () =>
      Effect.gen(function*() {
        const transport = yield* request("GET", "/api/v1/admin/auth/transport", { headers: adminHeaders })
        expect(transport.status).toBe(200)
        expectSpecSchema(transport.body, "AdminAuthTransportResponse")
        expect(transport.body.auth_transport).toEqual({
          legacy_query_auth_enabled: true,
          stream_auth_primary_configured: false,
          stream_auth_previous_configured: false,
          stream_auth_secret_count: 1
        })
        const alerts = yield* request("GET", "/api/v1/admin/alerts/auth-transport", { headers: adminHeaders })
        expectSpecSchema(alerts.body, "AdminAuthTransportAlertsResponse")
        expect(alerts.body.status).toBe("warning")
        expect(alerts.body.alerts.map((a: { code: string }) => a.code)).toEqual([
          "STREAM_TOKEN_SECRET_GENERATED",
          "LEGACY_TENANT_BEARER_ENABLED"
        ])
        expect(alerts.body.count).toBe(2)
      }))
  })

  serverSuite({
    ADMIN_API_KEY: "",
    ADMIN_USERNAME: "ops",
    ADMIN_PASSWORD_SHA256: createHash("sha256").update("s3cret-passphrase").digest("hex"),
    PUBLIC_BASE_URL: "https://voice.example.com",
    STREAM_TOKEN_SECRET: "primary-stream-secret",
    STREAM_TOKEN_SECRET_PREVIOUS: "previous-stream-secret"
  })("SHA-256 password, https deployment, no admin key", (it) => {
    it.effect("accepts the password whose SHA-256 is configured and marks the cookie Secure", () =>
      Effect.gen(function*() {
        const res = yield* login("ops", "s3cret-passphrase")
        expect(res.status).toBe(200)
        expect(res.headers["set-cookie"]).toContain("Secure")
        expect((yield* login("ops", "wrong")).status).toBe(401)
        expect((yield* login("someone", "s3cret-passphrase")).status).toBe(401)
        expect((yield* request("GET", "/api/v1/admin/tenants", { headers: { "x-admin-key": "anything" } })).status)
          .toBe(401)
      }))

    it.effect("reports both stream secrets", () =>
      Effect.gen(function*() {
        const cookie = cookieOf((yield* login("ops", "s3cret-passphrase")).headers["set-cookie"])
        const res = yield* request("GET", "/api/v1/admin/auth/transport", { headers: { cookie } })
        expect(res.body.auth_transport).toMatchObject({
          stream_auth_primary_configured: true,
          stream_auth_previous_configured: true,
          stream_auth_secret_count: 2
        })
      }))
  })

  serverSuite({ ADMIN_API_KEY: "" })("admin disabled", (it) => {
    it.effect("admin endpoints answer 404 when neither a key nor a login is configured", () =>
      Effect.gen(function*() {
        for (const [method, path] of [["GET", "/api/v1/admin/tenants"], ["GET", "/api/v1/admin/auth/transport"]] as const) {
          const res = yield* request(method, path, { headers: { "x-admin-key": "guess" } })
          expect(res.status).toBe(404)
          expectSpecSchema(res.body, "AdminErrorResponse")
          expect(res.body.error).toBe("Admin endpoints are disabled")
        }
        const loginRes = yield* login("ops", "anything")
        expect(loginRes.status).toBe(404)
      }))
  })
})
