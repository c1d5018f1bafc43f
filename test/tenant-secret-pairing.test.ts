import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, request, serverSuite } from "./support/TestServer.js"

/**
 * A tenant document read back (redacted) and written again keeps its stored secrets, and each
 * "[redacted]" marker is only ever filled from the same logical item: a list reordered, an item
 * inserted or removed, must not send one endpoint's credential to another.
 */

const tool = (name: string, apiKey: string) => ({
  name,
  description: `Runs ${name}`,
  url: `https://${name}.tools.example.com/run`,
  api_key: apiKey
})

let seeded = 0

/** A tenant of the test's own with two tools (each with its own key) and two webhooks. */
const ownTenant = (extra: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    const id = `pairing-${++seeded}`
    const document = {
      tenant_id: id,
      webhook_secret: "whsec_dGVzdC1zaWduaW5nLXNlY3JldA==",
      tools: [tool("alpha", "alpha-key-111"), tool("beta", "beta-key-222")],
      webhooks: [
        { url: "https://one.hooks.example.com/in", authorization: "Bearer one-333" },
        { url: "https://two.hooks.example.com/in", authorization: "Bearer two-444" }
      ],
      ...extra
    }
    expect((yield* put(id, document)).status).toBe(200)
    const read = yield* request("GET", `/api/v1/admin/tenants/${id}`, { headers: adminHeaders })
    expect(read.status).toBe(200)
    return { id, document, read: read.body.config as Record<string, any>, etag: read.body.etag as string }
  })

const put = (id: string, body: unknown) =>
  request("PUT", `/api/v1/admin/tenants/${id}`, { headers: adminHeaders, json: body })

const patch = (id: string, body: unknown) =>
  request("PUT", `/api/v1/admin/tenants/${id}/runtime-config`, { headers: adminHeaders, json: body })

const stored = (id: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const [row] = yield* sql<{ config: Record<string, any> }>`select config from tenants where tenant_id = ${id}`
    return row!.config
  })

serverSuite()("tenant secrets written back stay with their list item", (it) => {
  it.effect("a document written back as read keeps every secret where it was", () =>
    Effect.gen(function*() {
      const tenant = yield* ownTenant({
        // Two items that read the same (only their secrets differ) stay in their order.
        twins: [{ region: "eu", api_key: "twin-a" }, { region: "eu", api_key: "twin-b" }]
      })
      expect(tenant.read.tools[0].api_key).toBe("[redacted]")
      expect((yield* put(tenant.id, tenant.read)).status).toBe(200)
      expect(yield* stored(tenant.id)).toEqual(tenant.document)
    }))

  it.effect("reordered, removed and edited items keep their own secrets (PUT)", () =>
    Effect.gen(function*() {
      const tenant = yield* ownTenant()
      const [alpha, beta] = tenant.read.tools
      const [one, two] = tenant.read.webhooks
      const reordered = { ...tenant.read, tools: [beta, alpha], webhooks: [two, one] }
      expect((yield* put(tenant.id, reordered)).status).toBe(200)
      const after = yield* stored(tenant.id)
      expect(after.tools).toEqual([tool("beta", "beta-key-222"), tool("alpha", "alpha-key-111")])
      expect(after.webhooks).toEqual([tenant.document.webhooks[1], tenant.document.webhooks[0]])

      // The first item removed: the one left keeps its own key, not the first item's.
      const fewer = { ...tenant.read, tools: [beta], webhooks: [two] }
      expect((yield* put(tenant.id, fewer)).status).toBe(200)
      const left = yield* stored(tenant.id)
      expect(left.tools).toEqual([tool("beta", "beta-key-222")])
      expect(left.webhooks).toEqual([tenant.document.webhooks[1]])
    }))

  it.effect("an item edited and moved is found by its name; one inserted before it takes nothing", () =>
    Effect.gen(function*() {
      const tenant = yield* ownTenant()
      const [alpha, beta] = tenant.read.tools
      const added = { name: "gamma", description: "Runs gamma", url: "https://gamma.tools.example.com/run" }
      const edited = { ...tenant.read, tools: [added, { ...beta, description: "Runs beta, better" }, alpha] }
      expect((yield* put(tenant.id, edited)).status).toBe(200)
      const after = yield* stored(tenant.id)
      expect(after.tools).toEqual([
        added,
        { ...tool("beta", "beta-key-222"), description: "Runs beta, better" },
        tool("alpha", "alpha-key-111")
      ])
    }))

  it.effect("a marker that matches no stored item, or more than one, is refused naming its place", () =>
    Effect.gen(function*() {
      const tenant = yield* ownTenant({
        twins: [{ region: "eu", api_key: "twin-a" }, { region: "eu", api_key: "twin-b" }]
      })
      // A new tool that copies a marker: there is no secret of its own to keep.
      const copied = { ...tenant.read.tools[0], name: "delta", url: "https://delta.tools.example.com/run" }
      const withCopy = { ...tenant.read, tools: [...tenant.read.tools, copied] }
      const refused = yield* put(tenant.id, withCopy)
      expect(refused.status).toBe(400)
      expectSpecSchema(refused.body, "AdminErrorResponse")
      expect(refused.body.error).toContain("config.tools[2].api_key")
      expect(refused.body.error).toContain("send the secret again")

      // One of two items that read the same removed: which secret was meant cannot be told.
      const oneTwin = { ...tenant.read, twins: [tenant.read.twins[1]] }
      const ambiguous = yield* put(tenant.id, oneTwin)
      expect(ambiguous.status).toBe(400)
      expect(ambiguous.body.error).toContain("config.twins[0].api_key")

      // A marker where nothing was ever stored.
      const invented = yield* put(tenant.id, { ...tenant.read, crm: { api_key: "[redacted]" } })
      expect(invented.status).toBe(400)
      expect(invented.body.error).toContain("config.crm.api_key")

      // Nothing was written; sending the secret again is accepted.
      expect(yield* stored(tenant.id)).toEqual(tenant.document)
      const resent = { ...tenant.read, tools: [...tenant.read.tools, { ...copied, api_key: "delta-key-555" }] }
      expect((yield* put(tenant.id, resent)).status).toBe(200)
      expect((yield* stored(tenant.id)).tools.map((t: { api_key: string }) => t.api_key))
        .toEqual(["alpha-key-111", "beta-key-222", "delta-key-555"])
    }))

  it.effect("the runtime-config merge patch pairs list items the same way", () =>
    Effect.gen(function*() {
      const tenant = yield* ownTenant({
        twins: [{ region: "eu", api_key: "twin-a" }, { region: "eu", api_key: "twin-b" }]
      })
      // A patch that leaves the lists alone leaves every secret where it was.
      expect((yield* patch(tenant.id, { voice: "verse" })).status).toBe(200)
      expect(yield* stored(tenant.id)).toEqual({ ...tenant.document, voice: "verse" })
      const [alpha, beta] = tenant.read.tools
      expect((yield* patch(tenant.id, { tools: [beta, alpha] })).status).toBe(200)
      expect((yield* stored(tenant.id)).tools).toEqual([tool("beta", "beta-key-222"), tool("alpha", "alpha-key-111")])
      const refused = yield* patch(tenant.id, { tools: [{ ...alpha, name: "renamed" }] })
      expect(refused.status).toBe(400)
      expect(refused.body.error).toContain("config.tools[0].api_key")
    }))

  it.effect("a kept secret does not follow its endpoint to another host (PUT and merge patch)", () =>
    Effect.gen(function*() {
      const ticketing = { url: "https://tickets.example.com/t/{external_reference_id}", api_token: "ticket-token-666" }
      const tenant = yield* ownTenant({ operations: { ticketing } })
      const moved = {
        ...tenant.read,
        operations: { ticketing: { ...tenant.read.operations.ticketing, url: "https://elsewhere.example.net/t/{external_reference_id}" } }
      }
      const refused = yield* put(tenant.id, moved)
      expect(refused.status).toBe(400)
      expect(refused.body.error).toContain("config.operations.ticketing.api_token")
      const patched = yield* patch(tenant.id, { operations: { ticketing: { url: "https://elsewhere.example.net/t" } } })
      expect(patched.status).toBe(400)
      expect(patched.body.error).toContain("config.operations.ticketing.api_token")
      // A tool moved to another host keeps its name, but not its key.
      const toolMoved = { ...tenant.read, tools: [{ ...tenant.read.tools[0], url: "https://alpha.elsewhere.example.net/run" }, tenant.read.tools[1]] }
      const toolRefused = yield* put(tenant.id, toolMoved)
      expect(toolRefused.status).toBe(400)
      expect(toolRefused.body.error).toContain("config.tools[0].api_key")
      expect(yield* stored(tenant.id)).toEqual(tenant.document)

      // Another path on the same host keeps the token; so does a new token sent with a new host.
      const samePlace = { ticketing: { url: "https://tickets.example.com/v2/{external_reference_id}" } }
      expect((yield* patch(tenant.id, { operations: samePlace })).status).toBe(200)
      expect((yield* stored(tenant.id)).operations.ticketing.api_token).toBe("ticket-token-666")
      const resent = { ticketing: { url: "https://elsewhere.example.net/t", api_token: "new-token-777" } }
      expect((yield* patch(tenant.id, { operations: resent })).status).toBe(200)
      expect((yield* stored(tenant.id)).operations.ticketing).toEqual(resent.ticketing)
    }))

  it.effect("a secret nested below its endpoint does not follow it to another host either", () =>
    Effect.gen(function*() {
      const crm = { url: "https://a.example/hook", auth: { token: "crm-token-888", header: { authorization: "Bearer crm-999" } } }
      const tenant = yield* ownTenant({ crm, relay: { auth: { token: "relay-token-000" } } })
      expect(tenant.read.crm.auth.token).toBe("[redacted]")
      const refused = yield* put(tenant.id, { ...tenant.read, crm: { ...tenant.read.crm, url: "https://b.example/hook" } })
      expect(refused.status).toBe(400)
      expectSpecSchema(refused.body, "AdminErrorResponse")
      expect(refused.body.error).toContain("config.crm.auth.token is \"[redacted]\" but config.crm.url now names another host")
      expect(refused.body.error).toContain("config.crm.auth.header.authorization")
      const patched = yield* patch(tenant.id, { crm: { url: "https://b.example/hook" } })
      expect(patched.status).toBe(400)
      expect(patched.body.error).toContain("config.crm.auth.token")
      // An object that gains a URL: its nested token stays behind too.
      const gained = yield* patch(tenant.id, { relay: { url: "https://c.example/in" } })
      expect(gained.status).toBe(400)
      expect(gained.body.error).toContain("config.relay.auth.token")
      expect(yield* stored(tenant.id)).toEqual(tenant.document)

      // Another path on the same host keeps them.
      expect((yield* patch(tenant.id, { crm: { url: "https://a.example/v2" } })).status).toBe(200)
      expect((yield* stored(tenant.id)).crm).toEqual({ ...crm, url: "https://a.example/v2" })
    }))

  it.effect("a stored URL refused when written back as read is named without its credential", () =>
    Effect.gen(function*() {
      const tenant = yield* ownTenant()
      // Stored before the address rule applied to it (or its name now resolves privately).
      const sql = yield* SqlClient.SqlClient
      const privateHook = "https://hooks:stored-pass-1234@127.0.0.1/in?token=stored-token-5678"
      yield* sql`update tenants set config = jsonb_set(config, '{webhook_url}', ${JSON.stringify(privateHook)}::jsonb) where tenant_id = ${tenant.id}`
      const read = yield* request("GET", `/api/v1/admin/tenants/${tenant.id}`, { headers: adminHeaders })
      expect(read.body.config.webhook_url).toBe("https://hooks:[redacted]@127.0.0.1/in?token=[redacted]")
      for (const written of [put(tenant.id, read.body.config), patch(tenant.id, { voice: "verse" })]) {
        const refused = yield* written
        expect(refused.status).toBe(400)
        expect(refused.body.error).toContain("webhook_url https://hooks:[redacted]@127.0.0.1/in?token=[redacted] is not allowed")
        expect(refused.text).not.toMatch(/stored-pass|stored-token/)
      }
    }))

  it.effect("validate checks a document as read the way a PUT of it would be stored", () =>
    Effect.gen(function*() {
      // The console validates the document it read (secrets as markers) before writing it back.
      const tenant = yield* ownTenant({ auth_token: "pairing-legacy-token-0123456789" })
      expect(tenant.read.auth_token).toBe("[redacted]")
      const validate = (body: unknown) => request("POST", "/api/v1/admin/tenants/validate", { headers: adminHeaders, json: body })
      const asRead = yield* validate(tenant.read)
      expect(asRead.status).toBe(200)
      expect(asRead.body.ok).toBe(true)
      expect(asRead.body.runtime.auth_token).toBe("[redacted]")
      const [alpha, beta] = tenant.read.tools
      expect((yield* validate({ ...tenant.read, tools: [beta, alpha] })).status).toBe(200)
      const unpaired = yield* validate({ ...tenant.read, tools: [{ ...alpha, name: "renamed" }] })
      expect(unpaired.status).toBe(400)
      expect(unpaired.body.error).toContain("config.tools[0].api_key")
      // A tenant not stored yet has no secrets to keep.
      const fresh = yield* validate({ ...tenant.read, tenant_id: "pairing-not-stored" })
      expect(fresh.status).toBe(400)
      expect(fresh.body.error).toContain("config.auth_token")
    }))
})
