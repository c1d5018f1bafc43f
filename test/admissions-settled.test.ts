import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { eventually } from "./support/Eventually.js"
import { FakeOpenAI, withFakeOpenAI } from "./support/FakeOpenAIRealtime.js"
import { accountSid, agentWithRoute, newCallSid, putTenant, twilioWebhook } from "./support/FakeTwilioServer.js"
import { parseXml, streamParameters } from "./support/FakeTwilioXml.js"
import { promise } from "./support/MediaCalls.js"
import { makeTestServer } from "./support/TestServer.js"
import { mediaStreamUrl, TwilioMediaClient } from "./support/TwilioMediaClient.js"

const NUMBER = "+15550005100"

/**
 * An inbound call's admission is counted until the ledger shows the call; past that every later
 * admission of the tenant used to probe the whole ledger for it (for CALL_ADMISSION_TTL_SECS, under
 * the tenant's lock), so after a busy minute each webhook waited ~100 ms of database work per
 * earlier webhook of that minute. The call's start settles it (LiveCallsRepo.insertRedeemingBatch).
 */
layer(withFakeOpenAI((fake) => makeTestServer({ OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "sk-admissions" })))(
  "call admissions once calls are live",
  (it) => {
    it.effect("a started call leaves no admission behind; the tenant's cap still counts live and pending calls", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const fake = yield* FakeOpenAI
        yield* putTenant("settled", { display_name: "Settled", limits: { max_concurrent_calls: 3 } })
        yield* agentWithRoute("settled", { phoneNumber: NUMBER })
        fake.onResponseCreate = (connection) => connection.reply({ audio: [Buffer.alloc(160, 1)], transcript: "Hello." })
        const admissions = () =>
          Effect.map(sql<{ n: number }>`select count(*)::int as n from call_admissions where tenant_id = 'settled'`,
            (rows) => rows[0]!.n)
        const ring = (callSid: string) =>
          twilioWebhook("/api/v1/incoming-call", { CallSid: callSid, AccountSid: accountSid("settled"), From: "+15557654321", To: NUMBER, CallStatus: "ringing" })

        /** Webhook, then the media stream with the TwiML's parameters up to the greeting. */
        const liveCall = (n: number) =>
          Effect.gen(function*() {
            const callSid = newCallSid()
            const answer = yield* ring(callSid)
            expect(answer.text).toContain("<Stream")
            const url = yield* mediaStreamUrl()
            const client = yield* promise(() => TwilioMediaClient.open(url))
            client.connected()
            client.start({ streamSid: `MZsettled${String(n).padStart(23, "0")}`, callSid, customParameters: streamParameters(parseXml(answer.text)) })
            yield* promise(() => client.waitFor("the greeting", () => client.of("media").length >= 1))
            return { client, callSid }
          })

        const first = yield* liveCall(1)
        const second = yield* liveCall(2)
        // Both are in the ledger: their admissions are settled (the old code kept both for 90 s).
        expect(yield* admissions()).toBe(0)

        // A third call between its webhook and its stream holds its admission ...
        const pending = yield* ring(newCallSid())
        expect(pending.text).toContain("<Stream")
        expect(yield* admissions()).toBe(1)
        // ... so with two live calls the tenant is at its cap of three: the next caller is refused.
        const refused = yield* ring(newCallSid())
        expect(refused.text).toContain("All of our lines are busy")

        // One live call hangs up and is recorded: a caller gets through again.
        first.client.stop()
        yield* promise(() => first.client.closed)
        const next = yield* eventually(ring(newCallSid()), (res) => res.text.includes("<Stream"))
        expect(next.text).toContain("<Stream")
        second.client.stop()
        yield* promise(() => second.client.closed)
      }))
  }
)
