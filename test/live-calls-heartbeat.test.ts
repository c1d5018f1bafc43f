import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { eventuallyHolds } from "./support/Eventually.js"
import { FakeOpenAI, withFakeOpenAI } from "./support/FakeOpenAIRealtime.js"
import { putTenant } from "./support/FakeTwilioServer.js"
import { frame, listed, promise, sessions } from "./support/MediaCalls.js"
import { makeTestServer } from "./support/TestServer.js"
import { mediaStreamUrl, TwilioMediaClient } from "./support/TwilioMediaClient.js"

const ACME = { authorization: "Bearer acme-bearer-token-0123456789" }
const STREAM_SID = "MZbeat0000000000000000000000000001"
const CALL_SID = "CAbeat0000000000000000000000000001"

const Suite = withFakeOpenAI((fake) =>
  Layer.effectDiscard(putTenant("acme")).pipe(Layer.provideMerge(makeTestServer({
    OPENAI_BASE_URL: fake.url,
    OPENAI_API_KEY: "sk-beat",
    MEDIA_HEARTBEAT_SECONDS: "1",
    MEDIA_REAP_AFTER_SECONDS: "2"
  })))
)

const heartbeatAgeMs = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.map(
    sql<{ age_ms: number }>`select (extract(epoch from now() - heartbeat_at) * 1000)::int as age_ms
                            from live_calls where stream_sid = ${STREAM_SID}`,
    (rows) => rows[0]?.age_ms ?? null
  ))

layer(Suite, { excludeTestServices: true })("the live-call ledger's heartbeat", (it) => {
  it.effect("a call outliving the reap interval keeps its row renewed and is not reaped", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(1)], transcript: "Hello!" })
      const url = yield* mediaStreamUrl()
      const client = yield* promise(() => TwilioMediaClient.open(url, ACME))
      client.connected()
      client.start({ streamSid: STREAM_SID, callSid: CALL_SID, customParameters: { direction: "inbound", from: "+15551230001" } })
      yield* promise(() => client.waitFor("the greeting", () => client.of("media").length >= 1))
      yield* eventuallyHolds(sessions(ACME), (list) => list.length === 1)

      // Twice the reap interval: without the beat the row goes stale and the reaper records the call as failed.
      yield* Effect.sleep("4500 millis")
      const age = yield* heartbeatAgeMs
      expect(age).not.toBeNull()
      expect(age!).toBeLessThan(2_000)
      expect((yield* sessions(ACME)).map((s) => s.stream_sid)).toEqual([STREAM_SID])
      expect(yield* listed(CALL_SID, ACME)).toEqual([])

      client.stop()
      expect((yield* promise(() => client.closed)).code).toBe(1000)
      const logs = yield* eventuallyHolds(listed(CALL_SID, ACME), (calls) => calls.length === 1)
      expect(logs[0].status).not.toBe("failed")
    }))
})
