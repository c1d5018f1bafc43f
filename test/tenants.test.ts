import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, serverSuite, bearer, request } from "./support/TestServer.js"

const acme = {
  tenant_id: "acme",
  org_id: "org_acme",
  model: "gpt-realtime",
  voice: "alloy",
  display_name: "Acme Dental",
  auth_token: "acme-legacy-token-0123456789",
  system_prompt_key: "support_default",
  twilio: { account_sid: "AC0123456789abcdef0123456789abcdef", auth_token: "twilio-secret", from_number: "+15555550100" },
  integrations: { crm: { api_key: "crm-secret", region: "us" } }
}

const put = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  request("PUT", `/api/v1/admin/tenants/${id}`, { headers: { ...adminHeaders, ...headers }, json: body })

let seeded = 0

/** A tenant of the test's own, shaped like acme (with its own legacy token): no test depends on another. */
const ownTenant = (prefix: string) =>
  Effect.gen(function*() {
    const id = `${prefix}-${++seeded}`
    const doc = { ...acme, tenant_id: id, auth_token: `${id}-legacy-token-0123456789` }
    const created = yield* put(id, doc)
    expect(created.status).toBe(200)
    return doc
  })

serverSuite()("tenant administration", (it) => {
  it.effect("creates a tenant and reads it back with every secret redacted", () =>
    Effect.gen(function*() {
      const created = yield* put("acme", acme)
      expect(created.status).toBe(200)
      expectSpecSchema(created.body, "TenantMutationResponse")
      expect(created.body).toEqual({ ok: true, tenant_id: "acme" })
      expect(created.headers.etag).toMatch(/^"[0-9a-f]{32}"$/)

      const read = yield* request("GET", "/api/v1/admin/tenants/acme", { headers: adminHeaders })
      expect(read.status).toBe(200)
      expectSpecSchema(read.body, "TenantResponse")
      expect(read.body.etag).toBe(created.headers.etag)
      expect(read.body.config).toMatchObject({
        tenant_id: "acme",
        org_id: "org_acme",
        auth_token: "[redacted]",
        twilio: { account_sid: acme.twilio.account_sid, auth_token: "[redacted]", from_number: "+15555550100" },
        integrations: { crm: { api_key: "[redacted]", region: "us" } }
      })
      expect(read.text).not.toContain("twilio-secret")
      expect(read.text).not.toContain("crm-secret")
      expect(read.text).not.toContain(acme.auth_token)

      // The secrets themselves are kept.
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<{ config: typeof acme }>`select config from tenants where tenant_id = 'acme'`
      expect(row!.config.twilio.auth_token).toBe("twilio-secret")
    }))

  it.effect("a redacted document written back keeps the stored secrets", () =>
    Effect.gen(function*() {
      const tenant = yield* ownTenant("redacted")
      const read = yield* request("GET", `/api/v1/admin/tenants/${tenant.tenant_id}`, { headers: adminHeaders })
      const edited = { ...read.body.config, voice: "verse" }
      const saved = yield* put(tenant.tenant_id, edited, { "if-match": read.body.etag })
      expect(saved.status).toBe(200)
      // The legacy token still authenticates: it was not replaced by "[redacted]".
      const status = yield* request("GET", "/status", { headers: bearer(tenant.auth_token) })
      expect(status.status).toBe(200)
      expect(status.body.tenant).toBe(tenant.tenant_id)
    }))

  it.effect("credentials in URLs and in lists are redacted on read and kept when the document is written back", () =>
    Effect.gen(function*() {
      const id = "url-secrets"
      const webhookUrl = "https://hooks:hook-pass-123@hooks.example.com/in?token=hook-token-456&team=7"
      const toolUrl = "https://tools.example.com/run?api_key=tool-key-789"
      const doc = {
        ...acme,
        tenant_id: id,
        auth_token: `${id}-legacy-token-0123456789`,
        webhook_url: webhookUrl,
        webhook_secret: "whsec_dGVzdC1zaWduaW5nLXNlY3JldA==",
        tools: [{ name: "crm_lookup", description: "Looks a customer up", url: toolUrl }],
        integrations: { crm: { endpoints: [{ region: "eu", api_key: "listed-secret-321" }] } }
      }
      expect((yield* put(id, doc)).status).toBe(200)

      const read = yield* request("GET", `/api/v1/admin/tenants/${id}`, { headers: adminHeaders })
      expect(read.status).toBe(200)
      for (const secret of ["hook-pass-123", "hook-token-456", "tool-key-789", "listed-secret-321"]) {
        expect(read.text).not.toContain(secret)
      }
      expect(read.body.config.webhook_url).toBe("https://hooks:[redacted]@hooks.example.com/in?token=[redacted]&team=7")
      expect(read.body.config.tools[0].url).toBe("https://tools.example.com/run?api_key=[redacted]")
      expect(read.body.config.integrations).toEqual({ crm: { endpoints: [{ region: "eu", api_key: "[redacted]" }] } })
      const listed = yield* request("GET", "/api/v1/admin/tenants?limit=500", { headers: adminHeaders })
      expect(listed.status).toBe(200)
      expect(listed.text).not.toContain("hook-pass-123")

      // Written back as read: every stored secret is kept, not replaced by the marker.
      const saved = yield* put(id, read.body.config, { "if-match": read.body.etag })
      expect(saved.status).toBe(200)
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<{ config: typeof doc }>`select config from tenants where tenant_id = ${id}`
      expect(row!.config.webhook_url).toBe(webhookUrl)
      expect(row!.config.tools[0]!.url).toBe(toolUrl)
      expect(row!.config.integrations).toEqual(doc.integrations)

      // A tool moved up the list (the one before it removed) keeps its URL's credential.
      const second = { name: "crm_update", description: "Updates a customer", url: "https://tools.example.com/update?key=second-key-654" }
      const twoTools = yield* request("PUT", `/api/v1/admin/tenants/${id}/runtime-config`, {
        headers: adminHeaders,
        json: { tools: [doc.tools[0], second] }
      })
      expect(twoTools.status).toBe(200)
      const reread = yield* request("GET", `/api/v1/admin/tenants/${id}`, { headers: adminHeaders })
      expect(reread.text).not.toContain("second-key-654")
      const fewer = { ...reread.body.config, tools: [reread.body.config.tools[1]] }
      expect((yield* put(id, fewer, { "if-match": reread.body.etag })).status).toBe(200)
      const [after] = yield* sql<{ config: typeof doc }>`select config from tenants where tenant_id = ${id}`
      expect(after!.config.tools).toEqual([second])
    }))

  it.effect("a token that is a URL's whole userinfo (https://<token>@host) is redacted on read and kept on write-back", () =>
    Effect.gen(function*() {
      const tenant = yield* ownTenant("userinfo")
      const repo = "https://ghp_userinfo0123456789@git.example.com/acme/repo.git"
      const billing = "https://sk_live_userinfo987654321:@api.billing.example.com/v1"
      const doc = { ...tenant, integrations: { ...tenant.integrations, git: { repo }, billing: { url: billing } } }
      expect((yield* put(tenant.tenant_id, doc)).status).toBe(200)
      const read = yield* request("GET", `/api/v1/admin/tenants/${tenant.tenant_id}`, { headers: adminHeaders })
      expect(read.text).not.toContain("ghp_userinfo")
      expect(read.text).not.toContain("sk_live_userinfo")
      expect(read.body.config.integrations.git.repo).toBe("https://[redacted]@git.example.com/acme/repo.git")
      expect(read.body.config.integrations.billing.url).toBe("https://[redacted]:@api.billing.example.com/v1")
      expect((yield* put(tenant.tenant_id, read.body.config, { "if-match": read.body.etag })).status).toBe(200)
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<{ config: typeof doc }>`select config from tenants where tenant_id = ${tenant.tenant_id}`
      expect(row!.config.integrations).toEqual(doc.integrations)
    }))

  it.effect("If-Match guards concurrent edits (412)", () =>
    Effect.gen(function*() {
      const tenant = yield* ownTenant("etag")
      const read = yield* request("GET", `/api/v1/admin/tenants/${tenant.tenant_id}`, { headers: adminHeaders })
      const stale = yield* put(tenant.tenant_id, { ...tenant, voice: "ash" }, { "if-match": '"0000"' })
      expect(stale.status).toBe(412)
      expectSpecSchema(stale.body, "AdminErrorResponse")
      expect(stale.body.error).toContain("If-Match")
      const fresh = yield* put(tenant.tenant_id, { ...tenant, voice: "ash" }, { "if-match": read.body.etag })
      expect(fresh.status).toBe(200)
      expect(fresh.headers.etag).not.toBe(read.body.etag)
      const missing = yield* put("nobody", { tenant_id: "nobody" }, { "if-match": '"abc"' })
      expect(missing.status).toBe(412)
    }))

  it.effect("rejects invalid documents with a message naming the problem", () =>
    Effect.gen(function*() {
      const cases: Array<[unknown, string]> = [
        [{ tenant_id: "other" }, "does not match the path"],
        [{ ...acme, twilio: { from_number: "5555" } }, "twilio.from_number must be an E.164 number"],
        [{ ...acme, webhook_url: "ftp://x" }, "webhook_url must be an http(s) URL"],
        [{ ...acme, voice: 7 }, "voice"],
        [{ org_id: "x" }, "tenant_id"],
        [{ ...acme, auth_token: "short" }, "auth_token must be at least 16 characters"]
      ]
      for (const [body, message] of cases) {
        const res = yield* put("acme", body)
        expect(res.status, JSON.stringify(body)).toBe(400)
        expectSpecSchema(res.body, "AdminErrorResponse")
        expect(res.body.error).toContain(message)
      }
      const malformed = yield* request("PUT", "/api/v1/admin/tenants/acme", {
        headers: { ...adminHeaders, "content-type": "application/json" },
        body: "{not json"
      })
      expect(malformed.status).toBe(400)
      expectSpecSchema(malformed.body, "AdminErrorResponse")
      expect(malformed.body.error).toContain("not valid JSON")
    }))

  it.effect("a legacy token belongs to one tenant only", () =>
    Effect.gen(function*() {
      const owner = yield* ownTenant("owner")
      const clash = yield* put("copycat", { tenant_id: "copycat", auth_token: owner.auth_token })
      expect(clash.status).toBe(400)
      expect(clash.body.error).toContain("auth_token is already used")
    }))

  it.effect("lists tenants with pagination and validates the parameters", () =>
    Effect.gen(function*() {
      for (const id of ["list-a", "list-b", "list-c"]) yield* put(id, { ...acme, tenant_id: id, auth_token: `${id}-token-0123456789` })
      const all = yield* request("GET", "/api/v1/admin/tenants?limit=500", { headers: adminHeaders })
      const ids: Array<string> = all.body.tenants.map((t: { tenant_id: string }) => t.tenant_id)
      const first = ids.indexOf("list-a")
      expect(ids.slice(first, first + 3)).toEqual(["list-a", "list-b", "list-c"])
      const page = yield* request("GET", `/api/v1/admin/tenants?limit=2&offset=${first + 1}`, { headers: adminHeaders })
      expect(page.status).toBe(200)
      expectSpecSchema(page.body, "ListTenantsResponse")
      expect(page.body.count).toBe(ids.length)
      expect(page.body.tenants.map((t: { tenant_id: string }) => t.tenant_id)).toEqual(["list-b", "list-c"])
      expect(JSON.stringify(page.body)).not.toContain("twilio-secret")
      const bad = yield* request("GET", "/api/v1/admin/tenants?limit=abc", { headers: adminHeaders })
      expect(bad.status).toBe(400)
      expect(bad.body.error).toContain("limit")
      const tooMany = yield* request("GET", "/api/v1/admin/tenants?limit=100000", { headers: adminHeaders })
      expect(tooMany.status).toBe(400)
    }))

  it.effect("validates without storing, and explains the runtime view", () =>
    Effect.gen(function*() {
      const ok = yield* request("POST", "/api/v1/admin/tenants/validate", {
        headers: adminHeaders,
        json: { tenant_id: "draft", auth_token: "draft-token-0123456789" }
      })
      expect(ok.status).toBe(200)
      expectSpecSchema(ok.body, "ValidateTenantResponse")
      expect(ok.body.runtime).toMatchObject({ tenant_id: "draft", model: "gpt-realtime", voice: "alloy", auth_token: "[redacted]" })
      expect((yield* request("GET", "/api/v1/admin/tenants/draft", { headers: adminHeaders })).status).toBe(404)
      const bad = yield* request("POST", "/api/v1/admin/tenants/validate", {
        headers: adminHeaders,
        json: { tenant_id: "draft", audio_output_provider: "sonos" }
      })
      expect(bad.status).toBe(400)
      expect(bad.body.error).toContain("audio_output_provider must be one of openai, elevenlabs")
    }))

  it.effect("patches the runtime config as a merge patch, guarded by If-Match", () =>
    Effect.gen(function*() {
      const tenant = yield* ownTenant("runtime")
      const runtime = `/api/v1/admin/tenants/${tenant.tenant_id}/runtime-config`
      const before = yield* request("GET", `/api/v1/admin/tenants/${tenant.tenant_id}/runtime`, { headers: adminHeaders })
      expect(before.status).toBe(200)
      expectSpecSchema(before.body, "TenantResponse")
      expect(before.body.config.twilio.auth_token).toBe("[redacted]")

      const patched = yield* request("PUT", runtime, {
        headers: { ...adminHeaders, "if-match": before.body.etag },
        json: { voice: "sage", webhook_url: "https://hooks.example/voice", twilio: { from_number: "+15555550199" }, display_name: null }
      })
      expect(patched.status).toBe(200)
      expectSpecSchema(patched.body, "TenantResponse")
      expect(patched.body.config).toMatchObject({
        voice: "sage",
        webhook_url: "https://hooks.example/voice",
        twilio: { from_number: "+15555550199", account_sid: acme.twilio.account_sid, auth_token: "[redacted]" }
      })
      expect(patched.body.config.display_name).toBeUndefined()

      const stale = yield* request("PUT", runtime, {
        headers: { ...adminHeaders, "if-match": before.body.etag },
        json: { voice: "echo" }
      })
      expect(stale.status).toBe(412)
      const rename = yield* request("PUT", runtime, {
        headers: adminHeaders,
        json: { tenant_id: "hijack" }
      })
      expect(rename.status).toBe(400)
      const unknown = yield* request("PUT", "/api/v1/admin/tenants/ghost/runtime-config", {
        headers: adminHeaders,
        json: { voice: "echo" }
      })
      expect(unknown.status).toBe(404)
    }))

  it.effect("reloads and deletes", () =>
    Effect.gen(function*() {
      const tenant = yield* ownTenant("reload")
      const reloaded = yield* request("POST", `/api/v1/admin/tenants/${tenant.tenant_id}/reload`, { headers: adminHeaders })
      expect(reloaded.status).toBe(200)
      expectSpecSchema(reloaded.body, "TenantResponse")
      expect((yield* request("POST", "/api/v1/admin/tenants/ghost/reload", { headers: adminHeaders })).status).toBe(404)

      yield* put("beta", { tenant_id: "beta" })
      const removed = yield* request("DELETE", "/api/v1/admin/tenants/beta", { headers: adminHeaders })
      expect(removed.status).toBe(200)
      expectSpecSchema(removed.body, "TenantMutationResponse")
      const gone = yield* request("GET", "/api/v1/admin/tenants/beta", { headers: adminHeaders })
      expect(gone.status).toBe(404)
      expectSpecSchema(gone.body, "AdminErrorResponse")
      expect(gone.body.error).toBe("Tenant not found: beta")
      expect((yield* request("DELETE", "/api/v1/admin/tenants/beta", { headers: adminHeaders })).status).toBe(404)
    }))

  it.effect("a deleted tenant's legacy token stops working at once", () =>
    Effect.gen(function*() {
      yield* put("temp", { tenant_id: "temp", auth_token: "temp-token-0123456789" })
      expect((yield* request("GET", "/status", { headers: bearer("temp-token-0123456789") })).status).toBe(200)
      yield* request("DELETE", "/api/v1/admin/tenants/temp", { headers: adminHeaders })
      expect((yield* request("GET", "/status", { headers: bearer("temp-token-0123456789") })).status).toBe(401)
    }))

  it.effect("legacy unversioned paths answer too", () =>
    Effect.gen(function*() {
      const tenant = yield* ownTenant("legacy")
      const legacy = yield* request("GET", `/admin/tenants/${tenant.tenant_id}`, { headers: adminHeaders })
      expect(legacy.status).toBe(200)
      expect(legacy.body.tenant_id).toBe(tenant.tenant_id)
    }))
})
