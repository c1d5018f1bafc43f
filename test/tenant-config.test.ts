import { SqlClient } from "@effect/sql"
import { describe, expect, it, layer } from "@effect/vitest"
import { Effect, Either, Layer, Logger, Redacted } from "effect"
import { inspect } from "node:util"
import { sha256 } from "../src/Auth/Crypto.js"
import { decodeTenantConfig } from "../src/Tenants/Config.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, bearer, makeTestServer, request } from "./support/TestServer.js"

const LEGACY_TOKEN = "typed-legacy-token-0123456789"
const TWILIO_SECRET = "twilio-typed-secret-value"
const ELEVENLABS_SECRET = "elevenlabs-typed-secret-value"
const SECRETS = [LEGACY_TOKEN, TWILIO_SECRET, ELEVENLABS_SECRET]

/** A document with every typed secret, keys the service does not know (at any depth), and odd values in tolerated keys. */
const document = {
  tenant_id: "typed",
  org_id: "org_typed",
  display_name: "",
  model: null,
  auth_token: LEGACY_TOKEN,
  twilio: { account_sid: "AC0123456789abcdef0123456789abcdef", auth_token: TWILIO_SECRET, region: "ie1", edge: null },
  elevenlabs: { api_key: ELEVENLABS_SECRET, voice_id: "rachel", stability: 0.4 },
  escalation: { number: "+15551230000", departments: { billing: "+15551230001", broken: 7 }, ring_timeout: 20 },
  business_hours: { timezone: "Europe/Dublin", hours: { monday: ["09:00-12:00", "13:00-17:00"] }, closed_dates: "never" },
  greeting: 42,
  kafka: { brokers: ["k1:9092"], topic: "voice" },
  custom: { nested: { list: [1, "two", { three: true }], empty: {} } }
}

const redacted = {
  ...document,
  auth_token: "[redacted]",
  twilio: { ...document.twilio, auth_token: "[redacted]" },
  elevenlabs: { ...document.elevenlabs, api_key: "[redacted]" }
}

describe("TenantConfig decoding", () => {
  it("types the keys the service reads; tolerated keys of the wrong type read as unset", () => {
    const config = Either.getOrThrow(decodeTenantConfig(document))
    expect(config.org_id).toBe("org_typed")
    expect(config.display_name).toBeUndefined()
    expect(config.model).toBeUndefined()
    expect(Redacted.value(config.auth_token!)).toBe(LEGACY_TOKEN)
    expect(Redacted.value(config.twilio!.auth_token!)).toBe(TWILIO_SECRET)
    expect(config.escalation?.departments).toEqual({ billing: "+15551230001" })
    expect(config.business_hours?.timezone).toBe("Europe/Dublin")
    expect(config.business_hours?.closed_dates).toBeUndefined()
    expect(config.greeting).toBeUndefined()
    expect(config.kafka).toEqual({ brokers: ["k1:9092"], topic: "voice" })
  })

  it("names every problem by its key and never echoes a value", () => {
    const result = decodeTenantConfig({
      tenant_id: "bad id",
      auth_token: "short-secret",
      voice: 7,
      twilio: { account_sid: "AC-not-hex", auth_token: 1234567, from_number: "555-secret" },
      elevenlabs: "elevenlabs-as-a-string"
    })
    expect(Either.flip(result)).toEqual(Either.right([
      "tenant_id must be 1-128 characters of letters, digits, '_', '-' or '.'",
      "voice must be a string",
      "auth_token must be at least 16 characters",
      "twilio.account_sid must look like AC followed by 32 hex characters",
      "twilio.auth_token must be a string",
      "twilio.from_number must be an E.164 number such as +15555551234",
      "elevenlabs must be an object"
    ].join("; ")))
  })

  it.effect("a typed secret shows as <redacted> in logs, JSON and inspection", () =>
    Effect.gen(function*() {
      const config = Either.getOrThrow(decodeTenantConfig(document))
      const lines: Array<string> = []
      const capture = Logger.make((options) => lines.push(Logger.logfmtLogger.log(options)))
      yield* Effect.log("tenant config", config).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
      const shown = [lines.join("\n"), JSON.stringify(config), String(config), inspect(config, { depth: 10 })]
      for (const text of shown) {
        expect(text).toContain("redacted")
        for (const secret of SECRETS) expect(text).not.toContain(secret)
      }
    }))
})

const logLines: Array<string> = []
const capturing = Logger.add(Logger.make((options) => logLines.push(Logger.logfmtLogger.log(options))))

const put = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  request("PUT", `/api/v1/admin/tenants/${id}`, { headers: { ...adminHeaders, ...headers }, json: body })

layer(makeTestServer().pipe(Layer.provide(capturing)), { excludeTestServices: true })("tenant config on the wire", (it) => {
  it.effect("GET returns exactly what was PUT (unknown keys, nulls, odd values), secrets redacted", () =>
    Effect.gen(function*() {
      const created = yield* put("typed", document)
      expect(created.status).toBe(200)
      const read = yield* request("GET", "/api/v1/admin/tenants/typed", { headers: adminHeaders })
      expect(read.body.config).toEqual(redacted)
      // Written back as read, the document is unchanged: same ETag, secrets kept.
      const again = yield* put("typed", read.body.config, { "if-match": read.body.etag })
      expect(again.status).toBe(200)
      expect(again.headers.etag).toBe(read.body.etag)
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<{ config: unknown }>`select config from tenants where tenant_id = 'typed'`
      expect(row!.config).toEqual(document)
    }))

  it.effect("no read of a tenant carries a typed secret", () =>
    Effect.gen(function*() {
      const reads = [
        yield* request("GET", "/api/v1/admin/tenants/typed", { headers: adminHeaders }),
        yield* request("GET", "/api/v1/admin/tenants", { headers: adminHeaders }),
        yield* request("GET", "/api/v1/admin/tenants/typed/runtime", { headers: adminHeaders }),
        yield* request("POST", "/api/v1/admin/tenants/typed/reload", { headers: adminHeaders }),
        yield* request("PUT", "/api/v1/admin/tenants/typed/runtime-config", { headers: adminHeaders, json: { voice: "sage" } }),
        yield* request("POST", "/api/v1/admin/tenants/validate", { headers: adminHeaders, json: document }),
        yield* request("GET", "/status", { headers: bearer(LEGACY_TOKEN) }),
        yield* request("GET", "/api/v1/admin/tenants/cached", { headers: adminHeaders })
      ]
      for (const read of reads) {
        expect(read.status, read.text).toBe(200)
        for (const secret of SECRETS) expect(read.text).not.toContain(secret)
      }
      expect(reads[2]!.body.config).toMatchObject({
        voice: "alloy",
        twilio: { region: "ie1", auth_token: "[redacted]", configured: true },
        elevenlabs: { api_key: "[redacted]", voice_id: "rachel" }
      })
      for (const line of logLines) for (const secret of SECRETS) expect(line).not.toContain(secret)
    }))

  it.effect("a stored document that no longer decodes puts its tenant out of service until a valid one is PUT", () =>
    Effect.gen(function*() {
      const token = "broken-legacy-token-0123456789"
      const stored = {
        tenant_id: "broken",
        auth_token: token,
        twilio: { auth_token: TWILIO_SECRET, from_number: "555-0100" },
        elevenlabs: ELEVENLABS_SECRET
      }
      // Written behind the API's back, as a row from before a validation rule would be.
      const sql = yield* SqlClient.SqlClient
      yield* sql`insert into tenants (tenant_id, config, etag, auth_token_sha256)
                 values ('broken', ${JSON.stringify(stored)}::jsonb, '"0"', ${sha256(token)})`

      const denied = yield* request("GET", "/status", { headers: bearer(token) })
      expect(denied.status).toBe(401)
      const logged = logLines.filter((line) => line.includes("no longer decodes"))
      expect(logged.length).toBeGreaterThan(0)
      expect(logged[0]).toContain("broken")
      expect(logged[0]).toContain("twilio.from_number must be an E.164 number")
      expect(logged[0]).toContain("elevenlabs must be an object")
      for (const line of logLines) for (const secret of [token, ...SECRETS]) expect(line).not.toContain(secret)

      const runtime = yield* request("GET", "/api/v1/admin/tenants/broken/runtime", { headers: adminHeaders })
      expect(runtime.status).toBe(404)
      expectSpecSchema(runtime.body, "AdminErrorResponse")
      expect(runtime.body.error).toContain("out of service")
      expect(runtime.body.error).toContain("twilio.from_number")
      const reloadAll = yield* request("POST", "/api/v1/admin/tenants/reload-cached", { headers: adminHeaders })
      expect(reloadAll.body.failures).toContainEqual({ tenant_id: "broken", error: expect.stringContaining("out of service") })

      // The admin still sees the document (redacted) and fixes it by writing it back corrected.
      const read = yield* request("GET", "/api/v1/admin/tenants/broken", { headers: adminHeaders })
      expect(read.status).toBe(200)
      expect(read.body.config).toEqual({ ...stored, auth_token: "[redacted]", twilio: { auth_token: "[redacted]", from_number: "555-0100" } })
      const fixed = { ...read.body.config, twilio: { ...read.body.config.twilio, from_number: "+15555550100" }, elevenlabs: null }
      expect((yield* put("broken", fixed)).status).toBe(200)
      expect((yield* request("GET", "/status", { headers: bearer(token) })).status).toBe(200)
      const runtimeNow = yield* request("GET", "/api/v1/admin/tenants/broken/runtime", { headers: adminHeaders })
      expect(runtimeNow.status).toBe(200)
      expect(runtimeNow.body.config.twilio).toMatchObject({ from_number: "+15555550100", auth_token: "[redacted]" })
    }))
})
