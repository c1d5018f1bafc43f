import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { createHash } from "node:crypto"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, serverSuite, apiClient, bearer, request } from "./support/TestServer.js"

/** The tenant whose keys the tests make. */
const Acme = Layer.effectDiscard(
  request("PUT", "/api/v1/admin/tenants/acme", { headers: adminHeaders, json: { tenant_id: "acme" } }).pipe(
    Effect.filterOrDie((res) => res.status === 200, (res) => new Error(`tenant acme: ${res.status} ${res.text}`))
  )
)

serverSuite({ LEGACY_TENANT_BEARER_AUTH_ENABLED: "false" }, { seed: Acme })("tenant API keys", (it) => {
  it.effect("a key is shown once, stored hashed, and authenticates its tenant", () =>
    Effect.gen(function*() {
      const created = yield* request("POST", "/api/v1/admin/tenants/acme/api-keys", {
        headers: adminHeaders,
        json: { label: "backend" }
      })
      expect(created.status).toBe(200)
      expectSpecSchema(created.body, "AdminCreatedTenantApiKeyResponse")
      const token: string = created.body.created.token
      const id: string = created.body.created.api_key.id
      expect(token).toMatch(/^ssv_[A-Za-z0-9_-]{43}$/)
      expect(created.body.created.api_key).toMatchObject({ label: "backend", key_prefix: token.slice(0, 12), revoked_at: null })

      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ key_sha256: Buffer }>`select key_sha256 from tenant_api_keys where id = ${id}`
      expect(rows[0]!.key_sha256.toString("hex")).toBe(createHash("sha256").update(token).digest("hex"))
      const dump = yield* sql<{ row: string }>`select row_to_json(k)::text as row from tenant_api_keys k where id = ${id}`
      expect(dump[0]!.row).not.toContain(token)

      const keyOf = (body: { api_keys: Array<{ id: string; last_used_at: string | null }> }) => body.api_keys.find((k) => k.id === id)!
      const listed = yield* request("GET", "/api/v1/admin/tenants/acme/api-keys", { headers: adminHeaders })
      expectSpecSchema(listed.body, "AdminTenantApiKeysResponse")
      expect(listed.text).not.toContain(token)
      expect(keyOf(listed.body).last_used_at).toBeNull()

      const status = yield* request("GET", "/status", { headers: bearer(token) })
      expect(status.status).toBe(200)
      expect(status.body.tenant).toBe("acme")
      const after = yield* request("GET", "/api/v1/admin/tenants/acme/api-keys", { headers: adminHeaders })
      expect(keyOf(after.body).last_used_at).not.toBeNull()
    }))

  it.effect("revocation is effective immediately", () =>
    Effect.gen(function*() {
      const created = yield* request("POST", "/api/v1/admin/tenants/acme/api-keys", { headers: adminHeaders, json: {} })
      const { api_key, token } = created.body.created
      expect((yield* request("GET", "/health", { headers: bearer(token) })).status).toBe(200)
      const revoked = yield* request("DELETE", `/api/v1/admin/tenants/acme/api-keys/${api_key.id}`, { headers: adminHeaders })
      expect(revoked.status).toBe(200)
      expectSpecSchema(revoked.body, "AdminTenantApiKeyResponse")
      expect(revoked.body.api_key.revoked_at).not.toBeNull()
      const denied = yield* request("GET", "/health", { headers: bearer(token) })
      expect(denied.status).toBe(401)
      expectSpecSchema(denied.body, "ErrorResponse")
    }))

  it.effect("unknown tenants and keys are 404; other tenants' keys cannot be revoked", () =>
    Effect.gen(function*() {
      expect((yield* request("GET", "/api/v1/admin/tenants/ghost/api-keys", { headers: adminHeaders })).status).toBe(404)
      expect((yield* request("POST", "/api/v1/admin/tenants/ghost/api-keys", { headers: adminHeaders, json: {} })).status)
        .toBe(404)
      yield* request("PUT", "/api/v1/admin/tenants/other", { headers: adminHeaders, json: { tenant_id: "other" } })
      const otherKey = yield* request("POST", "/api/v1/admin/tenants/other/api-keys", { headers: adminHeaders, json: {} })
      const cross = yield* request("DELETE", `/api/v1/admin/tenants/acme/api-keys/${otherKey.body.created.api_key.id}`, {
        headers: adminHeaders
      })
      expect(cross.status).toBe(404)
      expect((yield* request("GET", "/health", { headers: bearer(otherKey.body.created.token) })).status).toBe(200)
      const notUuid = yield* request("DELETE", "/api/v1/admin/tenants/acme/api-keys/not-a-uuid", { headers: adminHeaders })
      expect(notUuid.status).toBe(400)
      expect(notUuid.body.error).toContain("key_id")
      const longLabel = yield* request("POST", "/api/v1/admin/tenants/acme/api-keys", {
        headers: adminHeaders,
        json: { label: "x".repeat(201) }
      })
      expect(longLabel.status).toBe(400)
    }))

  it.effect("empty, malformed and legacy credentials are 401 when legacy auth is off", () =>
    Effect.gen(function*() {
      yield* request("PUT", "/api/v1/admin/tenants/legacy", {
        headers: adminHeaders,
        json: { tenant_id: "legacy", auth_token: "legacy-token-0123456789" }
      })
      const cases: Array<[Record<string, string>, string]> = [
        [{}, "Missing bearer token"],
        [{ authorization: "" }, "Missing bearer token"],
        [{ authorization: "Bearer" }, "Bearer <token>"],
        [{ authorization: "Basic dXNlcjpwYXNz" }, "Bearer <token>"],
        [{ authorization: "Bearer ssv_nope" }, "Invalid or revoked"],
        [bearer("legacy-token-0123456789"), "Invalid or revoked"]
      ]
      for (const [headers, message] of cases) {
        const res = yield* request("GET", "/status", { headers })
        expect(res.status, JSON.stringify(headers)).toBe(401)
        expect(res.body.error).toContain(message)
      }
    }))

  it.effect("the typed client derived from the Api works against the server", () =>
    Effect.gen(function*() {
      const client = yield* apiClient(adminHeaders)
      const created = yield* client.tenantApiKeys.create({ path: { tenant_id: "acme" }, payload: { label: "typed" } })
      expect(created.created.api_key.label).toBe("typed")
      const missing = yield* client.tenants.get({ path: { tenant_id: "ghost" } }).pipe(Effect.flip)
      expect(missing._tag).toBe("AdminNotFound")
    }))
})
