import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { eventually } from "./support/Eventually.js"
import { startFakeOtlpCollector, spanNames } from "./support/FakeOtlpCollector.js"
import { call, startReplica } from "./support/Replicas.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"
import { ADMIN_KEY, adminHeaders, bearer } from "./support/TestServer.js"

const SECRETS = ["acme-token-0123456789", "twilio-super-secret-value", ADMIN_KEY]

/** Waits (real time) until `check` holds or `timeoutMs` passes; the caller asserts afterwards. */
const until = (check: () => boolean, timeoutMs: number) => eventually(Effect.sync(check), (done) => done, timeoutMs)

describe("the service process", () => {
  it.live("exports traces and writes JSON logs with request and tenant ids, never secrets", () =>
    Effect.gen(function*() {
      const collector = yield* startFakeOtlpCollector
      const replica = yield* startReplica(yield* testDatabaseUrl, { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url })

      yield* call(replica, "PUT", "/api/v1/admin/tenants/acme", {
        headers: adminHeaders,
        json: { tenant_id: "acme", auth_token: SECRETS[0], twilio: { auth_token: SECRETS[1] } }
      })
      const status = yield* call(replica, "GET", "/status", { headers: { ...bearer(SECRETS[0]!), "x-request-id": "req-trace-1" } })
      expect(status.status).toBe(200)

      yield* until(() => {
        const names = spanNames(collector.exports)
        return names.includes("Tenants.upsert") && names.includes("TenantCache.findByAuthToken")
      }, 15_000)
      const names = spanNames(collector.exports)
      expect(names).toContain("Tenants.upsert")
      expect(names).toContain("TenantCache.findByAuthToken")
      expect(names.some((name) => name.startsWith("http.server"))).toBe(true)
      expect(names).toContain("sql.execute")
      yield* until(() => collector.exports.some((e) => e.path === "/v1/metrics" && e.body.includes("http_server_requests_total")), 15_000)
      expect(collector.exports.some((e) => e.path === "/v1/metrics" && e.body.includes("http_server_request_duration_ms")))
        .toBe(true)
      const exported = collector.exports.map((e) => e.body).join("\n")
      for (const secret of SECRETS) expect(exported).not.toContain(secret)

      const lines = replica.output().split("\n").filter((line) => line.startsWith("{"))
      const access = lines.map((line) => JSON.parse(line)).find((entry) =>
        entry.message === "http request" && entry.annotations?.request_id === "req-trace-1"
      )
      expect(access.annotations).toMatchObject({ path: "/status", status: 200, tenant_id: "acme", method: "GET" })
      for (const secret of SECRETS) expect(replica.output()).not.toContain(secret)
    }).pipe(Effect.scoped), 60_000)

  it.live("on SIGTERM it reports draining (503) and keeps serving during the grace period", () =>
    Effect.gen(function*() {
      const replica = yield* startReplica(yield* testDatabaseUrl, { SHUTDOWN_GRACE_SECONDS: "3" })
      replica.process.kill("SIGTERM")
      const ready = yield* eventually(call(replica, "GET", "/health/ready"), (res) => res.status === 503)
      expect(ready.status).toBe(503)
      expect(ready.body).toMatchObject({ ready: false, status: "draining" })
      expect((yield* call(replica, "GET", "/api/v1/admin/tenants", { headers: adminHeaders })).status).toBe(200)
      yield* until(() => replica.process.exitCode !== null, 10_000)
      expect(replica.process.exitCode).not.toBeNull()
    }).pipe(Effect.scoped), 60_000)
})

describe("embedded PostgreSQL (no DATABASE_URL)", () => {
  it.live("starts on its own, keeps data across restarts, and survives a killed predecessor", () =>
    Effect.gen(function*() {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "ssv-embedded-"))
      fs.chmodSync(dataDir, 0o777)
      const env = { DATABASE_URL: "", EMBEDDED_PG_DATA_DIR: path.join(dataDir, "pg") }
      const first = yield* Effect.scoped(Effect.gen(function*() {
        const replica = yield* startReplica("", env)
        const put = yield* call(replica, "PUT", "/api/v1/admin/tenants/kept", { headers: adminHeaders, json: { tenant_id: "kept" } })
        expect(put.status).toBe(200)
        return replica
      }))
      expect(first.process.exitCode).not.toBeNull()

      // A crash: the service is killed outright and leaves its PostgreSQL running.
      const crashed = yield* Effect.scoped(Effect.gen(function*() {
        const replica = yield* startReplica("", env)
        expect((yield* call(replica, "GET", "/api/v1/admin/tenants/kept", { headers: adminHeaders })).status).toBe(200)
        replica.process.kill("SIGKILL")
        yield* until(() => replica.process.exitCode !== null || replica.process.signalCode !== null, 5000)
        return replica
      }))
      expect(crashed.process.signalCode).toBe("SIGKILL")

      yield* Effect.scoped(Effect.gen(function*() {
        const replica = yield* startReplica("", env)
        const read = yield* call(replica, "GET", "/api/v1/admin/tenants/kept", { headers: adminHeaders })
        expect(read.status).toBe(200)
        expect(read.body.tenant_id).toBe("kept")
      }))
      yield* Effect.promise(() => fs.promises.rm(dataDir, { recursive: true, force: true }))
    }), 120_000)
})
