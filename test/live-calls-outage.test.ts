import { expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { LiveCalls } from "../src/LiveCalls/LiveCalls.js"
import { eventually, eventuallyHolds } from "./support/Eventually.js"
import { FakeOpenAI, withFakeOpenAI } from "./support/FakeOpenAIRealtime.js"
import { putTenant } from "./support/FakeTwilioServer.js"
import { frame, listed, promise, sessions } from "./support/MediaCalls.js"
import { databaseProxy } from "./support/TcpProxy.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, makeTestServer, request } from "./support/TestServer.js"
import { mediaStreamUrl, TwilioMediaClient } from "./support/TwilioMediaClient.js"

const ACME = { authorization: "Bearer acme-bearer-token-0123456789" }
const STREAM_SID = "MZoutage00000000000000000000000001"
const CALL_SID = "CAoutage00000000000000000000000001"

// The suite's database proxy, for its test to cut.
const database = databaseProxy()

const Suite = withFakeOpenAI((fake) =>
  Layer.effectDiscard(putTenant("acme")).pipe(Layer.provideMerge(makeTestServer({
    OPENAI_BASE_URL: fake.url,
    OPENAI_API_KEY: "sk-outage",
    MEDIA_HEARTBEAT_SECONDS: "1",
    MEDIA_REAP_AFTER_SECONDS: "2",
    // The outage outlasts the record's retries: this suite is about what happens after them.
    MEDIA_RECORD_RETRY_SECONDS: "1"
  }, { viaDatabaseUrl: database.viaDatabaseUrl })))
)

layer(Suite, { excludeTestServices: true })("live calls when the record cannot be written", (it) => {
  it.effect("the ledger row outlives the failed write, stops being renewed, and is reaped into a failed record", () =>
    Effect.gen(function*() {
      const fake = yield* FakeOpenAI
      fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(1)], transcript: "Hello!" })
      const url = yield* mediaStreamUrl()
      const client = yield* promise(() => TwilioMediaClient.open(url, ACME))
      client.connected()
      client.start({ streamSid: STREAM_SID, callSid: CALL_SID, customParameters: { direction: "inbound", from: "+15551230001" } })
      yield* promise(() => client.waitFor("the greeting", () => client.of("media").length >= 1))
      yield* eventuallyHolds(sessions(ACME), (list) => list.length === 1)

      // PostgreSQL goes away; the caller hangs up; the record cannot be written.
      yield* database.current().cut
      const unavailable = yield* request("GET", "/api/v1/admin/sessions", { headers: adminHeaders })
      expect(unavailable.status).toBe(503)
      expectSpecSchema(unavailable.body, "AdminErrorResponse")
      client.stop()
      expect((yield* promise(() => client.closed)).code).toBe(1000)
      const liveCalls = yield* LiveCalls
      const running = yield* eventually(liveCalls.countForTenant("acme"), (count) => count === 0, 10_000)
      expect(running).toBe(0)
      yield* database.current().restore

      // The row was not dropped as if the call had been recorded...
      const left = yield* eventually(
        Effect.either(Effect.flatMap(request("GET", "/api/v1/sessions", { headers: ACME }), (res) =>
          res.status === 200 ? Effect.succeed(res.body.sessions as Array<any>) : Effect.fail(res.status))),
        (result) => result._tag === "Right",
        20_000
      )
      expect(left._tag === "Right" && left.right.map((s) => s.stream_sid)).toEqual([STREAM_SID])
      // ...and, no longer renewed, it is reaped: the call is recorded as failed and leaves the listings.
      const logs = yield* eventually(listed(CALL_SID, ACME), (calls) => calls[0]?.status === "failed", 20_000)
      expect(logs).toHaveLength(1)
      expect(logs[0]).toMatchObject({ stream_sid: STREAM_SID, status: "failed" })
      const detail = yield* request("GET", `/api/v1/call-logs/${logs[0].id}`, { headers: ACME })
      expect(detail.body.call.error_message).toContain("could not record its end")
      expect(yield* sessions(ACME)).toEqual([])
    }))
})
