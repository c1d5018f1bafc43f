import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { adminHeaders, serverSuite, bearer, request } from "./support/TestServer.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"

serverSuite()("health", (it) => {
  it.effect("readiness reports the database and migrations", () =>
    Effect.gen(function*() {
      const res = yield* request("GET", "/health/ready")
      expect(res.status).toBe(200)
      expectSpecSchema(res.body, "ReadinessResponse")
      expect(res.body.ready).toBe(true)
      const names = res.body.checks.map((c: { name: string }) => c.name)
      expect(names).toEqual(["database", "migrations", "notifications", "twilio", "openai"])
      expect(res.body.checks[0].details.latency_ms).toBeTypeOf("number")
    }))

  it.effect("liveness answers with the heartbeat age", () =>
    Effect.gen(function*() {
      const res = yield* request("GET", "/health/live")
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ ok: true, status: "alive" })
    }))

  it.effect("/health and /status need a tenant credential", () =>
    Effect.gen(function*() {
      for (const path of ["/health", "/status"]) {
        const res = yield* request("GET", path)
        expect(res.status).toBe(401)
        expectSpecSchema(res.body, "ErrorResponse")
        expect(res.body).toMatchObject({ success: false, code: "UNAUTHORIZED" })
        expect(res.body.request_id).toBe(res.headers["x-request-id"])
      }
    }))

  it.effect("/health and /status describe the calling tenant", () =>
    Effect.gen(function*() {
      const put = yield* request("PUT", "/api/v1/admin/tenants/acme", {
        headers: adminHeaders,
        json: { tenant_id: "acme", org_id: "org-1", auth_token: "legacy-token-0123456789" }
      })
      expect(put.status).toBe(200)
      const health = yield* request("GET", "/health", { headers: bearer("legacy-token-0123456789") })
      expect(health.status).toBe(200)
      expectSpecSchema(health.body, "HealthResponse")
      expect(health.body).toMatchObject({ ok: true, tenant: "acme", org_id: "org-1", activeSessions: 0, tools: 4 })
      const status = yield* request("GET", "/status", { headers: bearer("legacy-token-0123456789") })
      expect(status.status).toBe(200)
      expectSpecSchema(status.body, "RootResponse")
      expect(status.body.tenant).toBe("acme")
    }))

  it.effect("echoes a client's x-request-id and invents one otherwise", () =>
    Effect.gen(function*() {
      const echoed = yield* request("GET", "/health/live", { headers: { "x-request-id": "req-abc-123" } })
      expect(echoed.headers["x-request-id"]).toBe("req-abc-123")
      const fresh = yield* request("GET", "/health/live")
      expect(fresh.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/)
    }))

  it.effect("unknown routes are JSON 404s in the caller's envelope", () =>
    Effect.gen(function*() {
      const tenant = yield* request("GET", "/api/v1/nothing-here")
      expect(tenant.status).toBe(404)
      expectSpecSchema(tenant.body, "ErrorResponse")
      const admin = yield* request("GET", "/api/v1/admin/nothing-here", { headers: adminHeaders })
      expect(admin.status).toBe(404)
      expectSpecSchema(admin.body, "AdminErrorResponse")
    }))
})
