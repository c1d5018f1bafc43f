import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Clock, Deferred, Effect, Fiber, Metric, TestClock } from "effect"
import { CallRecords, type CompletedCall } from "../src/CallLogs/CallRecords.js"
import { LatencyReportCache } from "../src/CallLogs/LatencyReportCache.js"
import { latencyReportCache } from "../src/Observability/Metrics.js"
import { newCallSid, putTenant, twilioWebhook } from "./support/FakeTwilioServer.js"
import { averagesRounded, DAY, LATENCY_WINDOWS } from "./support/LatencyCalls.js"
import { latencyReport } from "./support/LatencyOracle.js"
import { request, testClockSuite } from "./support/TestServer.js"

/**
 * call-logs/latency is answered from a per-replica cache (CallLogs/LatencyReportCache.ts). Every
 * answer must still be the full computation over call_logs (test/support/LatencyOracle.ts) at
 * the request's time: after each kind of write (a new call, a late one, a status callback
 * after the record, a delete) and as a window slides past its oldest call with no write at all.
 * The server runs on the suite's TestClock: the window's start moves only when the test moves it.
 */
const SAMPLES = [1, 10]

/** A recorded call of `tenantId` started at `startedAt`, its turns' latencies given. */
const recordCall = (tenantId: string, startedAt: Date, latencies: ReadonlyArray<number>) =>
  Effect.gen(function*() {
    const records = yield* CallRecords
    const callSid = newCallSid()
    const call: CompletedCall = {
      tenantId,
      streamSid: `MZ-${callSid}`,
      callSid,
      direction: "inbound",
      from: "+15551110001",
      to: "+15550008000",
      agentVersionId: null,
      model: "gpt-realtime",
      voice: "verse",
      startedAt,
      endedAt: new Date(startedAt.getTime() + 60_000),
      endReason: "caller_hangup",
      errorMessage: null,
      transcript: [{ role: "user", content: "Where is my order?", timestamp: startedAt }],
      functionCalls: [],
      turnLatencies: latencies.map((ms) => ({ llmFirstTokenMs: ms / 2, firstAudioMs: ms })),
      escalated: false,
      escalationReason: null
    }
    yield* records.recordCompletedCall(call)
    return callSid
  })

const ago = (ms: number) => Effect.map(Clock.currentTimeMillis, (now) => new Date(now - ms))

const answer = (tenantId: string, window: string, samples: number) =>
  Effect.map(
    request("GET", `/api/v1/call-logs/latency?window=${window}&samples=${samples}`, {
      headers: { authorization: `Bearer ${tenantId}-bearer-token-0123456789` }
    }),
    (res) => {
      expect(res.status, res.text).toBe(200)
      return res.text
    }
  )

/** Every window and sample count of `tenantId` answered as the full computation gives it now; the answers. */
const expectFullScan = (tenantId: string, label: string) =>
  Effect.gen(function*() {
    const answers = new Map<string, string>()
    for (const [window, span] of Object.entries(LATENCY_WINDOWS)) {
      for (const samples of SAMPLES) {
        const text = yield* answer(tenantId, window, samples)
        const since = span === null ? null : yield* ago(span)
        const expected = yield* latencyReport(tenantId, window, since, samples)
        expect(averagesRounded(text), `${label}: ${window}, samples ${samples}`).toBe(averagesRounded(expected))
        answers.set(`${window} ${samples}`, text)
      }
    }
    return answers
  })

testClockSuite()("call-logs/latency cache", (it) => {
  it.effect("answers the full computation after each kind of write, and answers from the cache without one", () =>
    Effect.gen(function*() {
      const tenant = "cache-writes"
      const sql = yield* SqlClient.SqlClient
      yield* putTenant(tenant)
      for (let i = 0; i < 8; i++) yield* recordCall(tenant, yield* ago((i * 3 + 1) * 3_600_000), [300 + i * 40, 900 + i * 70])
      for (let i = 0; i < 6; i++) yield* recordCall(tenant, yield* ago((2 + i * 5) * DAY), [500 + i * 90])
      const first = yield* expectFullScan(tenant, "seeded")

      // Held: a change no trigger sees (triggers off for the session) does not reach the answers;
      // with no cache, the 24h report would show the doubled number at once.
      const hidden = (factor: number) =>
        sql.withTransaction(Effect.zipRight(
          sql`set local session_replication_role = replica`,
          sql`update call_log_latency set e2e_p95 = e2e_p95 * ${factor} where tenant_id = ${tenant}`
        ))
      yield* hidden(2)
      for (const samples of SAMPLES) expect(yield* answer(tenant, "24h", samples)).toBe(first.get(`24h ${samples}`))
      yield* hidden(0.5)

      // A new call.
      yield* recordCall(tenant, yield* ago(30 * 60_000), [4000, 4100])
      const afterNew = yield* expectFullScan(tenant, "a new call")
      expect(afterNew.get("24h 10")).not.toBe(first.get("24h 10"))

      // A late call: recorded now, started 12 days ago (7d's answers stay; 30d's and all's change).
      yield* recordCall(tenant, yield* ago(12 * DAY), [9000])
      const afterLate = yield* expectFullScan(tenant, "a late call")
      expect(afterLate.get("7d 10")).toBe(afterNew.get("7d 10"))
      expect(afterLate.get("30d 1")).not.toBe(afterNew.get("30d 1"))

      // After the record: Twilio's completed callback gives the slowest call its billed duration.
      const slowest = JSON.parse(afterLate.get("all 1")!).slowest[0]
      const callback = yield* twilioWebhook(`/api/v1/call-status?tenant=${tenant}`, {
        CallSid: slowest.call_sid,
        CallStatus: "completed",
        CallDuration: "4321",
        Direction: "inbound",
        From: "+15551110001",
        To: "+15550008000"
      })
      expect(callback.status).toBe(200)
      const afterCallback = yield* expectFullScan(tenant, "a status callback after the record")
      expect(JSON.parse(afterCallback.get("all 1")!).slowest[0]).toEqual({ ...slowest, duration_seconds: 4321 })

      // A delete (as a retention purge would).
      yield* sql`delete from call_logs where tenant_id = ${tenant} and call_sid = ${slowest.call_sid}`
      const afterDelete = yield* expectFullScan(tenant, "a delete")
      expect(JSON.parse(afterDelete.get("all 1")!).slowest[0].call_sid).not.toBe(slowest.call_sid)
    }), { timeout: 120_000 })

  it.effect("drops a sliding window's report when its oldest call leaves the window, with no write", () =>
    Effect.gen(function*() {
      const tenant = "cache-slides"
      yield* putTenant(tenant)
      yield* recordCall(tenant, yield* ago(2 * 3_600_000), [400])
      // Each window's oldest call, 30 s (24h), 40 s (7d) and 50 s (30d) inside its start.
      for (const [span, inside] of [[DAY, 30_000], [7 * DAY, 40_000], [30 * DAY, 50_000]]) {
        yield* recordCall(tenant, yield* ago(span! - inside!), [2000 + inside! / 100])
      }
      const counts = (answers: Map<string, string>) =>
        ["24h", "7d", "30d", "all"].map((w) => JSON.parse(answers.get(`${w} 10`)!).stats.call_sample_count)

      expect(counts(yield* expectFullScan(tenant, "at the start"))).toEqual([2, 3, 4, 4])
      yield* TestClock.adjust("29 seconds")
      expect(counts(yield* expectFullScan(tenant, "29 s later"))).toEqual([2, 3, 4, 4])
      yield* TestClock.adjust("2 seconds")
      expect(counts(yield* expectFullScan(tenant, "31 s later"))).toEqual([1, 3, 4, 4])
      yield* TestClock.adjust("10 seconds")
      expect(counts(yield* expectFullScan(tenant, "41 s later"))).toEqual([1, 2, 4, 4])
      yield* TestClock.adjust("10 seconds")
      expect(counts(yield* expectFullScan(tenant, "51 s later"))).toEqual([1, 2, 3, 4])
    }), { timeout: 120_000 })

  it.effect("computes a key's report once for concurrent misses, and not again while its stamp holds", () =>
    Effect.gen(function*() {
      const tenant = "cache-flight"
      yield* putTenant(tenant)
      yield* recordCall(tenant, yield* ago(3_600_000), [700])
      const cache = yield* LatencyReportCache
      const results = Effect.all(["hit", "shared", "computed"].map((result) =>
        Effect.map(Metric.value(Metric.tagged(latencyReportCache, "result", result)), (state) => state.count)))
      const before = yield* results
      let computed = 0
      const started = yield* Deferred.make<void>()
      const gate = yield* Deferred.make<void>()
      const report = Effect.sync(() => computed++).pipe(
        Effect.zipRight(Deferred.succeed(started, undefined)),
        Effect.zipRight(Deferred.await(gate)),
        Effect.as({ stats: "{}", slowest: "[]", points: "[]", bucket: "hour" as const, window: "24h" })
      )
      const since = yield* ago(DAY)
      const ask = cache.cached(`flight ${tenant}`, tenant, since, report)
      // The requester that started the computation goes away before the answer: the others still get it.
      const first = yield* Effect.fork(ask)
      yield* Deferred.await(started)
      const requests = yield* Effect.forkAll(Array.from({ length: 8 }, () => ask))
      yield* Fiber.interrupt(first)
      yield* Deferred.succeed(gate, undefined)
      const answers = yield* Fiber.join(requests)
      expect(answers.map((a) => a.stats)).toEqual(Array(8).fill("{}"))
      expect(computed).toBe(1)
      yield* ask
      expect(computed).toBe(1)
      // A write moves the stamp: computed again.
      yield* recordCall(tenant, yield* ago(60_000), [800])
      yield* ask
      expect(computed).toBe(2)
      // The replica's counter (GET /metrics): 2 computed; the 8 waiting and the later one shared or hit.
      const [hits, shared, computations] = (yield* results).map((n, i) => n - before[i]!)
      expect(computations).toBe(2)
      expect(hits! + shared!).toBe(9)
    }).pipe(Effect.provide(LatencyReportCache.Default)), { timeout: 60_000 })
})
