import { expect } from "@effect/vitest"
import { Context, Effect, Layer } from "effect"
import twilio from "twilio"
import { StreamTokens } from "../src/Auth/StreamTokens.js"
import {
  accountSid,
  agentWithRoute,
  CALLER,
  inboundCall as inbound,
  putTenant,
  routedTwilioTenant,
  sign,
  suiteWithFakeTwilio,
  twilioWebhook
} from "./support/FakeTwilioServer.js"
import { findAll, parseXml, streamParameters } from "./support/FakeTwilioXml.js"
import { eventually } from "./support/Eventually.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, request } from "./support/TestServer.js"

const ACME_SID = accountSid("acme")
const SHARED_SID = accountSid("shared")
const TOKENS = { acme: "acme-twilio-auth-token", beta: "beta-twilio-auth-token", gamma: "gamma-twilio-auth-token" }
const ACME_NUMBER = "+15550001000"
const OPEN_NUMBER = "+15550003000"
const UNROUTED = "+15550002000"

const diagnostics = request("GET", "/api/v1/admin/twilio/webhook-diagnostics", { headers: adminHeaders })

/** The agent version acme's number is pinned to, made by the seed. */
class AcmeVersion extends Context.Tag("AcmeVersion")<AcmeVersion, string>() {}

/** Tenants on their own and on a shared Twilio account; acme and open have routed numbers. */
const Tenants = Layer.effect(
  AcmeVersion,
  Effect.gen(function*() {
    const acme = yield* routedTwilioTenant("acme", { accountSid: ACME_SID, authToken: TOKENS.acme }, {
      phoneNumber: ACME_NUMBER,
      pin: true,
      greeting: "Hi & welcome <3"
    })
    yield* putTenant("beta", { twilio: { account_sid: SHARED_SID, auth_token: TOKENS.beta } })
    yield* putTenant("gamma", { twilio: { account_sid: SHARED_SID, auth_token: TOKENS.gamma } })
    yield* putTenant("open", {})
    yield* agentWithRoute("open", { phoneNumber: OPEN_NUMBER })
    return acme.versionId
  })
)

/** Empties this server's hint cache, so a test counts only the hints it makes. */
const clearHints = request("POST", "/api/v1/admin/twilio/webhook-diagnostics/cache/clear", { headers: adminHeaders }).pipe(
  Effect.filterOrDie((res) => res.status === 200, () => new Error("hint cache clear failed"))
)

/**
 * Caches one hint. An invalidation from the previous test may still be on its way (NOTIFY is
 * asynchronous), so the webhook is repeated until the hint is seen to stay.
 */
const hintCached = (authToken: string) =>
  eventually(
    Effect.zipRight(
      twilioWebhook("/api/v1/incoming-call", inbound(UNROUTED, SHARED_SID), { authToken }),
      diagnostics
    ),
    (res) => res.body.hint_cache.entries === 1
  )

suiteWithFakeTwilio({}, Tenants)("Twilio voice webhooks", (it) => {
  it.effect("a signed call to a routed number connects the media stream, with the token and call parameters", () =>
    Effect.gen(function*() {
      const acmeVersion = yield* AcmeVersion
      const params = inbound(ACME_NUMBER, ACME_SID)
      const res = yield* twilioWebhook("/api/v1/incoming-call", params, { authToken: TOKENS.acme })
      expect(res.status).toBe(200)
      expect(res.headers["content-type"]).toContain("text/xml")
      const twiml = parseXml(res.text)
      expect(twiml.name).toBe("Response")
      const [stream] = findAll(twiml, "Stream")
      expect(findAll(twiml, "Connect")).toHaveLength(1)
      expect(stream!.attributes.url).toBe("ws://voice.test/media-stream")
      const parameters = streamParameters(twiml)
      expect(parameters).toMatchObject({
        tenant_id: "acme",
        agent_version_id: acmeVersion,
        direction: "inbound",
        caller: CALLER,
        call_sid: params.CallSid,
        greeting: "Hi & welcome <3"
      })
      // The token is what the media bridge redeems: bound to this tenant, call and version.
      const tokens = yield* StreamTokens
      const claims = yield* tokens.redeem(parameters.stream_token!)
      expect(claims).toEqual({
        tenantId: "acme",
        callSid: params.CallSid,
        agentVersionId: acmeVersion,
        direction: "inbound",
        from: CALLER,
        to: ACME_NUMBER
      })
      // The call log exists from the first webhook on, with the chosen version.
      const logs = yield* request("GET", `/api/v1/call-logs?call_sid=${params.CallSid}`, {
        headers: yield* putTenantHeaders("acme")
      })
      expect(logs.body.calls).toHaveLength(1)
      expect(logs.body.calls[0]).toMatchObject({ status: "in_progress", direction: "inbound", to_number: ACME_NUMBER })
    }))

  it.effect("the legacy unversioned path and the default port are signed as Twilio requested them", () =>
    Effect.gen(function*() {
      const res = yield* twilioWebhook("/incoming-call", inbound(ACME_NUMBER, ACME_SID), { authToken: TOKENS.acme })
      expect(res.status).toBe(200)
      expect(streamParameters(parseXml(res.text)).tenant_id).toBe("acme")
      // Twilio may include the scheme's default port in what it signs.
      const params = inbound(ACME_NUMBER, ACME_SID)
      const signature = twilio.getExpectedTwilioSignature(TOKENS.acme, "http://voice.test:80/api/v1/incoming-call", params)
      expect((yield* twilioWebhook("/api/v1/incoming-call", params, { signature })).status).toBe(200)
    }))

  it.effect("a wrong, missing or replayed-with-other-params signature is 401 text/plain", () =>
    Effect.gen(function*() {
      const params = inbound(ACME_NUMBER, ACME_SID)
      const wrongKey = yield* twilioWebhook("/api/v1/incoming-call", params, { authToken: "not-the-token" })
      expect(wrongKey.status).toBe(401)
      expect(wrongKey.headers["content-type"]).toContain("text/plain")
      expect(wrongKey.text).toBe("Invalid Twilio signature")
      const missing = yield* twilioWebhook("/api/v1/incoming-call", params)
      expect(missing.status).toBe(401)
      // A signature for other parameters (a tampered From) does not carry over.
      const signature = sign(TOKENS.acme, "/api/v1/incoming-call", params)
      const tampered = yield* twilioWebhook("/api/v1/incoming-call", { ...params, From: "+15550009999" }, { signature })
      expect(tampered.status).toBe(401)
      // The same signature on another path is refused as well.
      const otherPath = yield* twilioWebhook("/api/v1/outbound-call", params, { signature })
      expect(otherPath.status).toBe(401)
    }))

  it.effect("a tenant without a Twilio auth token is not signature-checked", () =>
    Effect.gen(function*() {
      const res = yield* twilioWebhook("/api/v1/incoming-call", inbound(OPEN_NUMBER, accountSid("nobody")))
      expect(res.status).toBe(200)
      expect(streamParameters(parseXml(res.text)).tenant_id).toBe("open")
    }))

  it.effect("an unknown number hears an apology and a hang-up, never silence", () =>
    Effect.gen(function*() {
      const res = yield* twilioWebhook("/api/v1/incoming-call", inbound("+15559990000", accountSid("unknown")))
      expect(res.status).toBe(200)
      const twiml = parseXml(res.text)
      expect(twiml.children.map((child) => child.name)).toEqual(["Say", "Hangup"])
      expect(twiml.children[0]!.text).toMatch(/sorry/i)
      expect(findAll(twiml, "Connect")).toEqual([])
    }))

  it.effect("a webhook without CallSid is 400 text/plain", () =>
    Effect.gen(function*() {
      const { CallSid: _, ...params } = inbound(ACME_NUMBER, ACME_SID)
      const res = yield* twilioWebhook("/api/v1/incoming-call", params, { authToken: TOKENS.acme })
      expect(res.status).toBe(400)
      expect(res.headers["content-type"]).toContain("text/plain")
      expect(res.text).toContain("CallSid")
    }))

  it.effect("resolution order: explicit tenant, hint cache, routes, then the account's tenants by signature", () =>
    Effect.gen(function*() {
      const reset = yield* request("POST", "/api/v1/admin/twilio/webhook-diagnostics/counters/reset?clear_hint_cache=true", {
        headers: adminHeaders
      })
      expect(reset.status).toBe(200)
      expectSpecSchema(reset.body, "AdminTwilioWebhookResetCountersResponse")
      expect(reset.body.cleared_hint_cache).toBe(true)
      const tenantOf = (res: { text: string }) => streamParameters(parseXml(res.text)).tenant_id

      // 1. Explicit ?tenant= wins over everything, checked with that tenant's token.
      const explicit = yield* twilioWebhook("/api/v1/incoming-call?tenant=beta", inbound(ACME_NUMBER, ACME_SID), {
        authToken: TOKENS.beta
      })
      expect(tenantOf(explicit)).toBe("beta")
      // ... and an explicit tenant whose token does not verify is refused outright.
      const forged = yield* twilioWebhook("/api/v1/incoming-call?tenant=beta", inbound(ACME_NUMBER, ACME_SID), {
        authToken: TOKENS.acme
      })
      expect(forged.status).toBe(401)

      // 2. An unknown explicit tenant falls through; no route: the shared account's tenants are tried by signature.
      const scanned = yield* twilioWebhook("/api/v1/incoming-call?tenant=nope", inbound(UNROUTED, SHARED_SID), {
        authToken: TOKENS.gamma
      })
      expect(tenantOf(scanned)).toBe("gamma")
      // 3. The same (AccountSid, To) is now a hint-cache hit.
      const hinted = yield* twilioWebhook("/api/v1/incoming-call", inbound(UNROUTED, SHARED_SID), { authToken: TOKENS.gamma })
      expect(tenantOf(hinted)).toBe("gamma")
      // 4. A hint whose tenant's signature does not verify is dropped; the scan finds beta.
      const other = yield* twilioWebhook("/api/v1/incoming-call", inbound(UNROUTED, SHARED_SID), { authToken: TOKENS.beta })
      expect(tenantOf(other)).toBe("beta")
      // 5. A routed number resolves through the route (then through its hint).
      const routed = yield* twilioWebhook("/api/v1/incoming-call", inbound(ACME_NUMBER, ACME_SID), { authToken: TOKENS.acme })
      expect(tenantOf(routed)).toBe("acme")
      // 6. Nobody signs for it: neither beta nor gamma verifies.
      const nobody = yield* twilioWebhook("/api/v1/incoming-call", inbound(UNROUTED, SHARED_SID), { authToken: "x" })
      expect(nobody.status).toBe(401)

      const report = yield* diagnostics
      expect(report.status).toBe(200)
      expectSpecSchema(report.body, "AdminTwilioWebhookDiagnosticsResponse")
      expect(report.body.resolution).toEqual({
        requests_total: 7,
        successes_total: 5,
        failures_total: 2,
        success_rate: 5 / 7,
        explicit_token_success: 1,
        explicit_token_invalid: 2,
        // the two explicit beta requests never reached the cache
        hint_cache_lookups: 5,
        hint_cache_hits: 1,
        hint_cache_misses: 2,
        hint_cache_expired: 0,
        hint_cache_signature_mismatch: 2,
        hint_cache_stale_token: 0,
        hint_cache_hit_rate: 1 / 5,
        signature_lookup_candidates_evaluated_total: 2 + 1 + 2,
        signature_lookup_success: 2,
        signature_lookup_not_found: 1,
        signature_lookup_tenant_load_error: 0
      })
      // (ACME_SID, ACME_NUMBER) from the route; the shared-account hint was dropped by the last request
      expect(report.body.hint_cache).toMatchObject({ entries: 1, ttl_secs: 60 })

      const cleared = yield* request("POST", "/api/v1/admin/twilio/webhook-diagnostics/cache/clear", { headers: adminHeaders })
      expect(cleared.status).toBe(200)
      expectSpecSchema(cleared.body, "AdminTwilioWebhookCacheClearResponse")
      expect(cleared.body).toMatchObject({ ok: true, removed_entries: 1, hint_cache: { entries: 0 } })
      const zeroed = yield* request("POST", "/api/v1/admin/twilio/webhook-diagnostics/counters/reset", { headers: adminHeaders })
      expect(zeroed.body).toMatchObject({ cleared_hint_cache: false, removed_hint_cache_entries: 0 })
      expect(zeroed.body.resolution.requests_total).toBe(0)
    }))

  it.effect("a tenant change drops that tenant's hints", () =>
    Effect.gen(function*() {
      yield* clearHints
      yield* hintCached(TOKENS.gamma)
      // Any change counts (the token stays, so the other tests still sign as gamma).
      yield* putTenant("gamma", { twilio: { account_sid: SHARED_SID, auth_token: TOKENS.gamma }, org_id: "org-gamma" })
      const after = yield* eventually(diagnostics, (r) => r.body.hint_cache.entries === 0)
      expect(after.body.hint_cache.entries).toBe(0)
    }))

  it.effect("a phone route change, in any tenant, drops the hints", () =>
    Effect.gen(function*() {
      yield* clearHints
      yield* hintCached(TOKENS.beta)
      const agents = yield* request("GET", "/api/v1/admin/tenants/open/agents", { headers: adminHeaders })
      const moved = yield* request("PUT", "/api/v1/admin/tenants/open/phone-number-routes", {
        headers: adminHeaders,
        json: { phone_number: "+15550009999", direction: "inbound", agent_id: agents.body.agents[0].id }
      })
      expect(moved.status).toBe(200)
      const after = yield* eventually(diagnostics, (r) => r.body.hint_cache.entries === 0)
      expect(after.body.hint_cache.entries).toBe(0)
    }))

  it.effect("admin diagnostics need admin credentials", () =>
    Effect.gen(function*() {
      expect((yield* request("GET", "/api/v1/admin/twilio/webhook-diagnostics")).status).toBe(401)
    }))
})

const putTenantHeaders = (tenantId: string) => Effect.succeed({ authorization: `Bearer ${tenantId}-bearer-token-0123456789` })
