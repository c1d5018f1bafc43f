import { expect } from "@effect/vitest"
import { Effect, Ref } from "effect"
import pg from "pg"
import { eventually } from "./support/Eventually.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { startTcpProxy, type TcpProxy } from "./support/TcpProxy.js"
import { adminHeaders, bearer, request, serverSuite } from "./support/TestServer.js"

// The suite's proxy, shared with its tests.
const proxyRef = Ref.unsafeMake<TcpProxy | undefined>(undefined)
let directUrl = ""

const viaProxy = (url: string) =>
  Effect.gen(function*() {
    directUrl = url
    const target = new URL(url)
    const proxy = yield* startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
    yield* Ref.set(proxyRef, proxy)
    target.port = String(proxy.port)
    target.hostname = "127.0.0.1"
    return target.toString()
  })

const proxy = Effect.map(Ref.get(proxyRef), (p) => p!)

serverSuite({}, { viaDatabaseUrl: viaProxy })("database outage", (it) => {
  it.effect("answers 503 in the right envelope while PostgreSQL is away and recovers by itself", () =>
    Effect.gen(function*() {
      yield* request("PUT", "/api/v1/admin/tenants/acme", {
        headers: adminHeaders,
        json: { tenant_id: "acme", org_id: "org-1", auth_token: "acme-token-0123456789" }
      })
      expect((yield* request("GET", "/status", { headers: bearer("acme-token-0123456789") })).status).toBe(200)

      yield* (yield* proxy).cut

      const admin = yield* request("GET", "/api/v1/admin/tenants", { headers: adminHeaders })
      expect(admin.status).toBe(503)
      expectSpecSchema(admin.body, "AdminErrorResponse")
      expect(admin.body.error).toBe("Database unavailable")

      const tenant = yield* request("GET", "/status", { headers: bearer("someone-else-token-0123") })
      expect(tenant.status).toBe(503)
      expectSpecSchema(tenant.body, "ErrorResponse")
      expect(tenant.body.code).toBe("SERVICE_UNAVAILABLE")

      const access = yield* request("POST", "/api/v1/access-requests", {
        json: { company_name: "Acme", contact_name: "Jo", use_case: "Scheduling", work_email: "jo@acme.example" }
      })
      expect(access.status).toBe(503)
      expectSpecSchema(access.body, "ApiAccessRequestErrorResponse")

      const ready = yield* request("GET", "/health/ready")
      expect(ready.status).toBe(503)
      expectSpecSchema(ready.body, "ReadinessResponse")
      expect(ready.body.checks[0]).toMatchObject({ name: "database", ready: false, status: "unreachable" })
      expect((yield* request("GET", "/health/live")).status).toBe(200)

      yield* (yield* proxy).restore

      const recovered = yield* eventually(request("GET", "/api/v1/admin/tenants", { headers: adminHeaders }), (r) => r.status === 200, 20_000)
      expect(recovered.status).toBe(200)
      expect((yield* eventually(request("GET", "/health/ready"), (r) => r.status === 200, 20_000)).status).toBe(200)
    }))

  it.effect("the LISTEN connection comes back too: a change notified after the outage reaches the cache", () =>
    Effect.gen(function*() {
      // Ready again means the listener is back (readiness checks it).
      expect((yield* request("GET", "/health/ready")).body.checks[2]).toMatchObject({ name: "notifications", ready: true })
      const direct = (statement: string) =>
        Effect.promise(async () => {
          const client = new pg.Client({ connectionString: directUrl })
          await client.connect()
          await client.query(statement)
          await client.end()
        })
      expect((yield* request("GET", "/status", { headers: bearer("acme-token-0123456789") })).body.org_id).toBe("org-1")
      // Another replica changes the tenant: until it notifies, this replica serves its cached copy.
      yield* direct(`update tenants set config = jsonb_set(config, '{org_id}', '"org-9"') where tenant_id = 'acme'`)
      expect((yield* request("GET", "/status", { headers: bearer("acme-token-0123456789") })).body.org_id).toBe("org-1")
      yield* direct(`select pg_notify('tenant_cache', 'acme')`)
      const seen = yield* eventually(
        request("GET", "/status", { headers: bearer("acme-token-0123456789") }),
        (r) => r.body?.org_id === "org-9",
        20_000
      )
      expect(seen.body.org_id).toBe("org-9")
    }))
})
