import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { accountSid, ringAt } from "./support/FakeTwilioServer.js"
import { parseXml, streamParameters } from "./support/FakeTwilioXml.js"
import { eventually } from "./support/Eventually.js"
import { call, type Replica, startReplicas } from "./support/Replicas.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"
import { adminHeaders } from "./support/TestServer.js"

const SID = accountSid("replicas")
const NUMBER = "+15550009000"

/** A signed Twilio webhook to one replica (signature over PUBLIC_BASE_URL, as Twilio would compute it). */
const webhook = (replica: Replica, authToken: string) => ringAt(replica.baseUrl, { accountSid: SID, authToken, to: NUMBER })

const diagnostics = (replica: Replica) =>
  Effect.map(call(replica, "GET", "/api/v1/admin/twilio/webhook-diagnostics", { headers: adminHeaders }), (r) => r.body)

const putGamma = (replica: Replica, authToken: string, orgId = "org-1") =>
  call(replica, "PUT", "/api/v1/admin/tenants/gamma", {
    headers: adminHeaders,
    json: { tenant_id: "gamma", org_id: orgId, twilio: { account_sid: SID, auth_token: authToken } }
  })

describe("Twilio webhook hint cache across replicas", () => {
  it.live("a tenant change and an admin cache clear on one replica drop the hints on the other", () =>
    Effect.gen(function*() {
      const url = yield* testDatabaseUrl
      const [a, b] = yield* startReplicas(url)
      expect((yield* putGamma(a, "first-token")).status).toBe(200)

      // Both replicas resolve the unrouted number by signature, then from their own hint.
      for (const replica of [a, b]) {
        const first = yield* webhook(replica, "first-token")
        expect(streamParameters(parseXml(first.text)).tenant_id).toBe("gamma")
        yield* webhook(replica, "first-token")
        const report = yield* diagnostics(replica)
        expect(report.hint_cache.entries).toBe(1)
        expect(report.resolution).toMatchObject({ signature_lookup_success: 1, hint_cache_hits: 1 })
      }

      // The tenant changes on A: B drops gamma's hint (tenant_cache NOTIFY) ...
      expect((yield* putGamma(a, "second-token", "org-2")).status).toBe(200)
      const dropped = yield* eventually(diagnostics(b), (r) => r.hint_cache.entries === 0)
      expect(dropped.hint_cache.entries).toBe(0)
      // ... and B accepts the rotated token at once, refusing the old one.
      expect((yield* webhook(b, "first-token")).status).toBe(401)
      const rotated = yield* webhook(b, "second-token")
      expect(streamParameters(parseXml(rotated.text)).tenant_id).toBe("gamma")
      expect((yield* diagnostics(b)).hint_cache.entries).toBe(1)

      // An admin clear on A clears B as well.
      yield* webhook(a, "second-token")
      const cleared = yield* call(a, "POST", "/api/v1/admin/twilio/webhook-diagnostics/cache/clear", { headers: adminHeaders })
      expect(cleared.body).toMatchObject({ ok: true, removed_entries: 1, hint_cache: { entries: 0 } })
      const clearedB = yield* eventually(diagnostics(b), (r) => r.hint_cache.entries === 0)
      expect(clearedB.hint_cache.entries).toBe(0)
    }).pipe(Effect.scoped), 120_000)
})
