import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { jobOf, recordFinishedCall, startAnalysisFakes } from "./support/CallAnalysisFixtures.js"
import { eventually } from "./support/Eventually.js"
import { FakeOpenAI, withFakeOpenAI } from "./support/FakeOpenAIRealtime.js"
import { accountSid, inboundCall, routedTwilioTenant, twilioWebhook } from "./support/FakeTwilioServer.js"
import { parseXml, streamParameters } from "./support/FakeTwilioXml.js"
import { makeTestServer, request, serverSuite } from "./support/TestServer.js"
import { mediaStreamUrl, TwilioMediaClient } from "./support/TwilioMediaClient.js"

// The statements every call runs (the inbound webhook's admission, the stream start's token and
// ledger row, the end-of-call record, the analysis's record) are sent as named prepared
// statements: PostgreSQL parses them once per connection, not per call (Database/HotStatement.ts).
// Each server has one pool connection, so `pg_prepared_statements` (per session) read through
// it shows what the calls prepared; its plan counters show each was run again, not prepared again.

const promise = <A>(run: () => Promise<A>) => Effect.promise(run)
const ONE_CONNECTION = { DATABASE_POOL_MAX: "1" }
const TOKEN = "prep-twilio-auth-token"
const ACCOUNT = accountSid("prepared")
const NUMBER = "+15550007100"

interface Prepared {
  readonly name: string
  readonly statement: string
  readonly runs: number
}

/** The named statements of the pool's one connection, with how often each ran there. */
const preparedStatements = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<Prepared>`select name, statement, (generic_plans + custom_plans)::int as runs from pg_prepared_statements`).pipe(
    Effect.orDie
  )

/** The one named statement whose text matches `pattern`. */
const preparedMatching = (statements: ReadonlyArray<Prepared>, pattern: RegExp) => {
  const found = statements.filter((s) => pattern.test(s.statement))
  expect(found.map((s) => s.statement.slice(0, 80)), `one named statement matching ${pattern}`).toHaveLength(1)
  expect(found[0]!.name).toMatch(/^ssv_[0-9a-f]{32}$/)
  return found[0]!
}

/** An inbound call as Twilio places it: signed webhook, media stream with the TwiML's parameters, greeting, hang-up. */
const placeCall = (n: number) =>
  Effect.gen(function*() {
    const fake = yield* FakeOpenAI
    const params = inboundCall(NUMBER, ACCOUNT)
    const webhook = yield* twilioWebhook("/api/v1/incoming-call", params, { authToken: TOKEN })
    expect(webhook.status).toBe(200)
    const before = fake.connections.length
    const url = yield* mediaStreamUrl()
    const client = yield* promise(() => TwilioMediaClient.open(url))
    client.connected()
    const streamSid = `MZprepared${String(n).padStart(24, "0")}`
    client.start({ streamSid, callSid: params.CallSid, customParameters: streamParameters(parseXml(webhook.text)) })
    yield* promise(() => fake.connection(before))
    yield* promise(() => client.waitFor("the greeting", () => client.of("media").length >= 1))
    client.stop()
    yield* promise(() => client.closed)
    const listed = yield* eventually(
      request("GET", `/api/v1/call-logs?call_sid=${params.CallSid}`, { headers: { authorization: "Bearer prep-bearer-token-0123456789" } }),
      (res) => res.body?.calls?.[0]?.status === "completed",
      10_000
    )
    expect(listed.body.calls[0]).toMatchObject({ stream_sid: streamSid, direction: "inbound" })
  })

layer(withFakeOpenAI((fake) =>
  // Every call's admission by its statement (no reservation ahead answers the second call without one).
  makeTestServer({ OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "sk-prepared", ANALYSIS_WORKER_ENABLED: "false", CALL_ADMISSIONS_AHEAD: "0", ...ONE_CONNECTION })
), { excludeTestServices: true })("a call's own statements, prepared by name", (it) => {
  it.effect("admission, token redemption with the ledger row, and the record: each prepared once and run for every call", () =>
    Effect.gen(function*() {
      yield* routedTwilioTenant("prep", { accountSid: ACCOUNT, authToken: TOKEN }, { phoneNumber: NUMBER, greeting: "Hello!" })
      yield* placeCall(1)
      yield* placeCall(2)
      const statements = yield* preparedStatements
      // LimitsRepo.admitInboundSeen, LiveCallsRepo.insertRedeemingBatch, CallRecords.recordCompletedCall.
      expect(preparedMatching(statements, /from admit_inbound_call_seen\(/).runs).toBe(2)
      expect(preparedMatching(statements, /insert into stream_token_uses/).runs).toBe(2)
      expect(preparedMatching(statements, /"recorded_call" as \(/).runs).toBe(2)
    }))
})

const analysis = await startAnalysisFakes()

serverSuite({ ...analysis.config, ...ONE_CONNECTION }, { seed: analysis.seedTenants("prep-an") })(
  "a finished analysis's record, prepared by name",
  (it) => {
    it.effect("the analysis's one statement and its claim are named prepared statements", () =>
      Effect.gen(function*() {
        yield* recordFinishedCall("prep-an", "CAprepan1")
        const job = yield* eventually(jobOf("prep-an", "MZCAprepan1"), (job) => job?.status === "done", 15_000)
        expect(job?.status).toBe("done")
        const statements = yield* preparedStatements
        // CallAnalysis/Records.ts, and the record that enqueued the job.
        expect(preparedMatching(statements, /"recorded_job" as \(/).runs).toBe(1)
        // The worker's claim (Database/Leases.ts), once per pass: parsed and planned once per connection too.
        expect(preparedMatching(statements, /update "call_analysis_jobs" claimed/).runs).toBeGreaterThanOrEqual(1)
        expect(preparedMatching(statements, /"recorded_call" as \(/).runs).toBe(1)
      }))
  }
)
