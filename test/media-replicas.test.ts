import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeFakeOpenAIRealtime } from "./support/FakeOpenAIRealtime.js"
import { call, startReplica } from "./support/Replicas.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"
import { adminHeaders, bearer } from "./support/TestServer.js"
import { TwilioMediaClient } from "./support/TwilioMediaClient.js"

const TOKEN = "acme-token-0123456789"

describe("media calls across replicas", () => {
  it.live("a call held by a replica that dies is closed as failed by another replica, once", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeOpenAIRealtime
      const url = yield* testDatabaseUrl
      const env = {
        OPENAI_BASE_URL: fake.url,
        OPENAI_API_KEY: "sk-replicas",
        MEDIA_HEARTBEAT_SECONDS: "1",
        MEDIA_REAP_AFTER_SECONDS: "3"
      }
      const [a, b] = yield* Effect.all([startReplica(url, env), startReplica(url, env)], { concurrency: 2 })
      const put = yield* call(a, "PUT", "/api/v1/admin/tenants/acme", {
        headers: adminHeaders,
        json: { tenant_id: "acme", auth_token: TOKEN }
      })
      expect(put.status).toBe(200)

      // A call on replica A (an internal client: tenant bearer, no stream token).
      const client = yield* Effect.promise(() =>
        TwilioMediaClient.open(`${a.baseUrl.replace("http", "ws")}/media-stream`, bearer(TOKEN))
      )
      client.connected()
      client.start({ streamSid: "MZreplica000000000000000000000001", callSid: "CAreplica000000000000000000000001" })
      yield* Effect.promise(() => fake.connection(0, 10_000))
      yield* Effect.promise(() => client.waitFor("the greeting", () => client.of("media").length >= 1))

      // A dies without a chance to write anything.
      a.process.kill("SIGKILL")
      yield* Effect.promise(() => client.closed)

      // B notices the stale heartbeat and closes the call's record.
      const deadline = Date.now() + 20_000
      let calls: Array<any> = []
      while (Date.now() < deadline) {
        const res = yield* call(b, "GET", "/api/v1/call-logs?call_sid=CAreplica000000000000000000000001", {
          headers: bearer(TOKEN)
        })
        calls = res.body?.calls ?? []
        if (calls.length > 0 && calls[0].status === "failed") break
        yield* Effect.sleep("250 millis")
      }
      expect(calls).toHaveLength(1)
      expect(calls[0]).toMatchObject({ status: "failed", stream_sid: "MZreplica000000000000000000000001" })
      const detail = yield* call(b, "GET", `/api/v1/call-logs/${calls[0].id}`, { headers: bearer(TOKEN) })
      expect(detail.body.call.error_message).toContain("replica")
    }).pipe(Effect.scoped), 90_000)
})
