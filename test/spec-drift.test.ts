import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { AdminApi, Api, PublicApi } from "../src/Api.js"
import { makeOpenApiDocuments } from "../src/Docs/OpenApiDocuments.js"
import { compare, loadSpec } from "../scripts/SpecDrift.js"
import { request, serverSuite } from "./support/TestServer.js"

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
})
