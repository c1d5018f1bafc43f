import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { eventually, eventuallyHolds } from "./support/Eventually.js"
import { makeFakeOpenAIRealtime } from "./support/FakeOpenAIRealtime.js"
import { LogSubscriber } from "./support/LogSubscriber.js"
import { call, startReplicas } from "./support/Replicas.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"
import { adminHeaders, bearer } from "./support/TestServer.js"
import { TwilioMediaClient } from "./support/TwilioMediaClient.js"

const ACME = "acme-logs-token-0123456789"
const GLOBEX = "globex-logs-token-0123456789"
const STREAM_SID = "MZlogs00000000000000000000000001"
const CALL_SID = "CAlogs00000000000000000000000001"

const promise = <A>(run: () => Promise<A>) => Effect.promise(run)

describe("live logs across replicas", () => {
  it.live("a subscriber on A sees a call on B start, speak and end; another tenant's sees nothing; bad keys are 401", () =>
    Effect.gen(function*() {
      const fake = yield* makeFakeOpenAIRealtime
      const url = yield* testDatabaseUrl
      const env = { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "sk-logs", LIVE_LOGS_PRESENCE_SECONDS: "1" }
      const [a, b] = yield* startReplicas(url, env)
      for (const [tenant, token] of [["acme", ACME], ["globex", GLOBEX]] as const) {
        const put = yield* call(a, "PUT", `/api/v1/admin/tenants/${tenant}`, {
          headers: adminHeaders,
          json: { tenant_id: tenant, auth_token: token }
        })
        expect(put.status).toBe(200)
      }
      const logsUrl = (replica: { baseUrl: string }) => `${replica.baseUrl.replace("http", "ws")}/api/v1/logs`

      // No key, a wrong key: refused before any upgrade.
      expect(yield* promise(() => LogSubscriber.refusal(logsUrl(a), {}))).toBe(401)
      expect(yield* promise(() => LogSubscriber.refusal(logsUrl(a), bearer("wrong-token-0123456789")))).toBe(401)
      expect((yield* call(a, "GET", "/api/v1/logs/stats")).status).toBe(401)

      const acme = yield* promise(() => LogSubscriber.open(logsUrl(a), bearer(ACME)))
      const globex = yield* promise(() => LogSubscriber.open(logsUrl(a), bearer(GLOBEX)))
      expect(acme.frames[0]).toMatchObject({ type: "connected", tenant_id: "acme" })

      // B learns of A's subscriber (stats count every replica's).
      const stats = yield* eventually(
        call(b, "GET", "/api/v1/logs/stats", { headers: bearer(ACME) }),
        (res) => res.body?.connectedClients === 1,
        10_000
      )
      expect(stats.status).toBe(200)
      expectSpecSchema(stats.body, "LogsStatsResponse")
      expect(stats.body).toMatchObject({ ok: true, tenant: "acme", connectedClients: 1 })

      // A call on B.
      const client = yield* promise(() => TwilioMediaClient.open(`${b.baseUrl.replace("http", "ws")}/media-stream`, bearer(ACME)))
      client.connected()
      client.start({ streamSid: STREAM_SID, callSid: CALL_SID, customParameters: { direction: "inbound", from: "+15551230001" } })
      const upstream = yield* promise(() => fake.connection(0, 10_000))
      yield* promise(() => acme.waitFor("call.started", () => acme.of("call.started")[0]))
      upstream.send({
        type: "conversation.item.input_audio_transcription.completed",
        item_id: "item_caller_1",
        transcript: "My sink is leaking"
      })
      upstream.reply({ audio: [Buffer.alloc(160, 0xff)], transcript: "I can send a plumber today." })
      yield* promise(() => acme.waitFor("both turns", () => acme.of("transcript").length >= 2))
      client.stop()
      const ended = yield* promise(() => acme.waitFor("call.ended", () => acme.of("call.ended")[0]))

      const started = acme.of("call.started")[0]
      expect(started).toMatchObject({ tenant_id: "acme", call_sid: CALL_SID, stream_sid: STREAM_SID })
      expect(started.data).toMatchObject({ direction: "inbound", from: "+15551230001" })
      expect(acme.of("transcript").map((f) => f.data)).toEqual(
        expect.arrayContaining([
          { role: "caller", text: "My sink is leaking" },
          { role: "agent", text: "I can send a plumber today." }
        ])
      )
      expect(ended).toMatchObject({ call_sid: CALL_SID, data: { end_reason: expect.any(String) } })
      for (const frame of acme.frames) expect(new Date(frame.timestamp).toISOString()).toBe(frame.timestamp)

      // Give any stray event time to arrive, then: globex heard nothing of acme's call.
      yield* Effect.sleep("300 millis")
      expect(globex.frames.map((f) => f.type)).toEqual(["connected"])
      acme.ws.close()
      globex.ws.close()
      yield* eventuallyHolds(
        call(b, "GET", "/api/v1/logs/stats", { headers: bearer(ACME) }),
        (res) => res.body?.connectedClients === 0,
        10_000
      )
    }).pipe(Effect.scoped), { timeout: 90_000 })
})
