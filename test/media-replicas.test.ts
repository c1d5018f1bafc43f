import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { eventually } from "./support/Eventually.js"
import { makeFakeOpenAIRealtime } from "./support/FakeOpenAIRealtime.js"
import { call, startReplicas } from "./support/Replicas.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"
import { adminHeaders, bearer } from "./support/TestServer.js"
import { TwilioMediaClient } from "./support/TwilioMediaClient.js"

const TOKEN = "acme-token-0123456789"
const STREAM_SID = "MZreplica000000000000000000000001"
const CALL_SID = "CAreplica000000000000000000000001"

describe("media calls across replicas", () => {
  it.live("a call held by replica A is listed by B; when A dies, B closes it as failed, once", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeOpenAIRealtime
      const url = yield* testDatabaseUrl
      const env = {
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: "sk-replicas",
        MEDIA_HEARTBEAT_SECONDS: "1",
        MEDIA_REAP_AFTER_SECONDS: "3"
      }
      const [a, b] = yield* startReplicas(url, env)
      const put = yield* call(a, "PUT", "/api/v1/admin/tenants/acme", {
        headers: adminHeaders,
        json: { tenant_id: "acme", auth_token: TOKEN, org_id: "org-acme" }
      })
      expect(put.status).toBe(200)

      // A call on replica A (an internal client: tenant bearer, no stream token).
      const client = yield* Effect.promise(() =>
        TwilioMediaClient.open(`${a.baseUrl.replace("http", "ws")}/media-stream`, bearer(TOKEN))
      )
      client.connected()
      client.start({
        streamSid: STREAM_SID,
        callSid: CALL_SID,
        customParameters: { direction: "inbound", from: "+15551230001", to: "+15551230002" }
      })
      yield* Effect.promise(() => fake.connection(0, 10_000))
      yield* Effect.promise(() => client.waitFor("the greeting", () => client.of("media").length >= 1))

      // B lists it, for the tenant and for admins.
      const listed = yield* eventually(
        call(b, "GET", "/api/v1/sessions", { headers: bearer(TOKEN) }),
        (res) => res.body?.sessions?.length === 1
      )
      expect(listed.status).toBe(200)
      expectSpecSchema(listed.body, "SessionsListResponse")
      expect(listed.body).toEqual({
        ok: true,
        tenant: "acme",
        sessions: [{
          stream_sid: STREAM_SID,
          started_at: expect.any(String),
          call_type: "inbound",
          customer_phone: "+15551230001",
          agent_name: null,
          greeting: null,
          org_id: "org-acme",
          escalated: false,
          escalation_target: null
        }]
      })
      const admin = yield* call(b, "GET", "/api/v1/admin/sessions", { headers: adminHeaders })
      expect(admin.status).toBe(200)
      expectSpecSchema(admin.body, "AdminSessionsResponse")
      expect(admin.body).toMatchObject({ ok: true, count: 1, sessions: [{ stream_sid: STREAM_SID, tenant: "acme" }] })

      // A dies without a chance to write anything.
      a.process.kill("SIGKILL")
      yield* Effect.promise(() => client.closed)

      // B notices the stale heartbeat and closes the call's record.
      const logs = yield* eventually(
        call(b, "GET", `/api/v1/call-logs?call_sid=${CALL_SID}`, { headers: bearer(TOKEN) }),
        (res) => res.body?.calls?.[0]?.status === "failed",
        20_000
      )
      const calls: Array<any> = logs.body?.calls ?? []
      expect(calls).toHaveLength(1)
      expect(calls[0]).toMatchObject({ status: "failed", stream_sid: STREAM_SID })
      const detail = yield* call(b, "GET", `/api/v1/call-logs/${calls[0].id}`, { headers: bearer(TOKEN) })
      expect(detail.body.call.error_message).toContain("replica")
      // ...and it is no longer listed anywhere.
      const after = yield* call(b, "GET", "/api/v1/sessions", { headers: bearer(TOKEN) })
      expect(after.body.sessions).toEqual([])
    }).pipe(Effect.scoped), 90_000)
})
