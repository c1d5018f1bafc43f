import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { AdminApi, Api, PublicApi } from "../src/Api.js"
import { makeOpenApiDocuments } from "../src/Docs/OpenApiDocuments.js"
import { compare, loadSpec } from "../scripts/SpecDrift.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, bearer, request, serverSuite } from "./support/TestServer.js"

const documents = makeOpenApiDocuments({ full: Api, public: PublicApi, admin: AdminApi })

describe("derived OpenAPI document vs spec/openapi.json", () => {
  it("every implemented operation matches the contract", () => {
    const report = compare(loadSpec(), documents.full)
    expect(report.drift).toEqual([])
    expect(report.implemented.length).toBeGreaterThan(0)
  })

  it("the drift check notices a changed operation", () => {
    const tampered = structuredClone(documents.full)
    tampered.paths["/api/v1/admin/tenants/{tenant_id}"].get.operationId = "renamed"
    delete tampered.paths["/api/v1/admin/tenants/{tenant_id}"].put.responses["412"]
    tampered.components.schemas.TenantResponse.required = ["ok"]
    const drift = compare(loadSpec(), tampered).drift.join("\n")
    expect(drift).toContain("operationId renamed != get_tenant")
    expect(drift).toContain("response 412 missing")
    expect(drift).toContain("schema TenantResponse required")
  })

  it("the drift check compares enum values: components, their properties and parameters", () => {
    const tampered = structuredClone(documents.full)
    tampered.components.schemas.CallDirection.enum = ["inbound", "outbound", "web"]
    tampered.components.schemas.AgentVersionStatus.enum = ["draft"]
    tampered.components.schemas.CallLogSummary.properties.direction = { type: "string", enum: ["inbound"] }
    tampered.components.schemas.SupervisorActionLog.properties.action = { type: "string" }
    const drift = compare(loadSpec(), tampered).drift
    expect(drift).toEqual(expect.arrayContaining([
      "schema CallDirection enum adds web",
      "schema AgentVersionStatus enum lacks published",
      "schema CallLogSummary.direction allows only [inbound] where the spec allows any value",
      "schema SupervisorActionLog.action allows any value where the spec allows only [barge, end, escalate, monitor, whisper]"
    ]))
    const params = structuredClone(documents.full)
    const list = params.paths["/api/v1/supervisor-actions"].get
    list.parameters = list.parameters.map((p: Record<string, any>) =>
      p.name === "action" ? { ...p, schema: { type: "string", enum: ["monitor", "refuse"] } } : p
    )
    expect(compare(loadSpec(), params).drift).toEqual(expect.arrayContaining([
      "GET /api/v1/supervisor-actions (list_supervisor_actions): parameter query:action enum adds refuse",
      "GET /api/v1/supervisor-actions (list_supervisor_actions): parameter query:action enum lacks barge, end, escalate, whisper"
    ]))
  })

  it("the drift check compares parameter constraints: format, type, bounds", () => {
    const tampered = structuredClone(documents.full)
    const withParam = (path: string, method: string, name: string, schema: Record<string, unknown>) => {
      const op = tampered.paths[path][method]
      op.parameters = op.parameters.map((p: Record<string, any>) => p.name === name ? { ...p, schema } : p)
    }
    withParam("/api/v1/callback-tasks/{id}", "get", "id", { type: "string" })
    withParam("/api/v1/call-logs", "get", "min_duration", { type: "string", pattern: "^-?\\d{1,15}$" })
    withParam("/api/v1/admin/tenants/evict-idle", "post", "max_idle_secs", { type: "integer", format: "int64" })
    withParam("/api/v1/call-logs", "get", "call_sid", { type: "string", format: "uuid" })
    expect(compare(loadSpec(), tampered).drift).toEqual(expect.arrayContaining([
      "GET /api/v1/callback-tasks/{id} (get_callback_task): parameter path:id format null != \"uuid\"",
      "GET /api/v1/call-logs (list_call_logs): parameter query:min_duration type \"string\" != \"integer\"",
      "GET /api/v1/call-logs (list_call_logs): parameter query:min_duration format null != \"int32\"",
      "POST /api/v1/admin/tenants/evict-idle (evict_idle_tenants): parameter query:max_idle_secs minimum null != 0",
      "GET /api/v1/call-logs (list_call_logs): parameter query:call_sid format \"uuid\" != null"
    ]))
    // A header is absent or text, never null: the spec's `["string", "null"]` If-Match is our string.
    expect(compare(loadSpec(), documents.full).drift.filter((line) => line.includes("if-match"))).toEqual([])
  })

  it("public and admin documents split the operations by audience", () => {
    const ids = (doc: Record<string, any>) =>
      Object.values<Record<string, any>>(doc.paths).flatMap((item) => Object.values<any>(item).map((op) => op.operationId))
    const admin = ids(documents.admin)
    const pub = ids(documents.public)
    expect(admin).toContain("upsert_tenant")
    expect(admin).not.toContain("readiness")
    expect(pub).toContain("readiness")
    expect(pub).not.toContain("upsert_tenant")
    expect(new Set(ids(documents.full))).toEqual(new Set([...admin, ...pub]))
    expect(documents.full.components.schemas.HttpApiDecodeError).toBeUndefined()
  })

  it("security schemes are the spec's, by name and definition", () => {
    const specSchemes = loadSpec().components.securitySchemes
    const ours = documents.full.components.securitySchemes
    expect(Object.keys(ours)).toEqual(expect.arrayContaining(["admin_key", "admin_session", "bearer_auth"]))
    for (const [name, scheme] of Object.entries<Record<string, unknown>>(ours)) {
      const { description: _ours, ...definition } = scheme
      const { description: _theirs, ...expected } = specSchemes[name]
      expect(definition, name).toEqual(expected)
    }
  })
})

serverSuite()("published documentation", (it) => {
  it.effect("serves the three documents, Swagger UI, the docs hub and the quickstart", () =>
    Effect.gen(function*() {
      const full = yield* request("GET", "/api-docs/openapi.json")
      expect(full.status).toBe(200)
      expect(full.body.paths).toEqual(documents.full.paths)
      expect((yield* request("GET", "/api-docs/public.json")).body.info.title).toBe("StateSet Voice API - Public")
      expect((yield* request("GET", "/api-docs/admin.json")).body.info.title).toBe("StateSet Voice API - Admin")
      const swagger = yield* request("GET", "/swagger-ui")
      expect(swagger.status).toBe(200)
      expect(swagger.text).toContain("swagger-ui-bundle.js")
      const bundle = yield* request("GET", "/swagger-ui/swagger-ui-bundle.js")
      expect(bundle.status).toBe(200)
      expect(bundle.headers["content-type"]).toContain("javascript")
      const init = yield* request("GET", "/swagger-ui/init.js")
      expect(init.text).toContain("/api-docs/admin.json")
      const hub = yield* request("GET", "/docs")
      expect(hub.text).toContain("/getting-started")
      const quickstart = yield* request("GET", "/getting-started")
      expect(quickstart.text).toContain("/api/v1/admin/tenants/acme/api-keys")
      expect(quickstart.text).toContain("http://voice.test")
    }))

  it.effect("parameters outside the documented formats: an int32 filter out of range is a 400, a non-UUID task id a 404", () =>
    Effect.gen(function*() {
      const tenant = { tenant_id: "formats", auth_token: "formats-legacy-token-0123456789" }
      expect((yield* request("PUT", "/api/v1/admin/tenants/formats", { headers: adminHeaders, json: tenant })).status).toBe(200)
      const headers = bearer(tenant.auth_token)
      const tooLong = yield* request("GET", "/api/v1/call-logs?min_duration=2147483648", { headers })
      expect(tooLong.status).toBe(400)
      expectSpecSchema(tooLong.body, "ErrorResponse")
      expect(tooLong.body.error).toContain("min_duration")
      expect((yield* request("GET", "/api/v1/call-logs?min_duration=2147483647", { headers })).status).toBe(200)
      const malformed = yield* request("GET", "/api/v1/callback-tasks/not-a-uuid", { headers })
      expect(malformed.status).toBe(404)
      expectSpecSchema(malformed.body, "ErrorResponse")
    }))
})
