import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { CallRecords, type CompletedCall } from "../src/CallLogs/CallRecords.js"
import { newCallSid, putTenant, twilioWebhook } from "./support/FakeTwilioServer.js"
import { latencyReport } from "./support/LatencyOracle.js"
import { seededRandom } from "./support/SeededRandom.js"
import { makeTestServer, request } from "./support/TestServer.js"

/**
 * call-logs/latency reads each call's numbers from call_log_latency (migration 0034), kept by
 * triggers on call_logs. Its answer must be the one the full computation over call_logs' jsonb
 * gives (test/support/LatencyOracle.ts), on random data written by every path that writes a
 * call's latency or its start: records (late ones too), a second stream rewriting a call's
 * record, status callbacks before and after the record, a start moved, calls deleted; in
 * tenants side by side.
 */
const SEED = Number(process.env.LATENCY_SEED ?? Date.now() % 1_000_000)
const { int, pick, random } = seededRandom(SEED)
const HOUR = 3_600_000
const DAY = 24 * HOUR
const WINDOWS = { "24h": DAY, "7d": 7 * DAY, "30d": 30 * DAY, all: null } as const
const TENANTS = ["lat-a", "lat-b"]

/** A start in the last 40 days, never within 10 minutes of a window's start (the test's clock moves). */
const randomStart = (now: number) => {
  for (;;) {
    const ago = random() < 0.4 ? random() * 2 * DAY : random() * 40 * DAY
    if ([DAY, 7 * DAY, 30 * DAY].every((edge) => Math.abs(ago - edge) > 10 * 60_000)) return new Date(now - ago)
  }
}

/** 0-8 turns; a value may be missing (no audio, no token) and a few calls have none at all. */
const randomTurns = () =>
  Array.from({ length: random() < 0.15 ? 0 : 1 + int(8) }, () => ({
    llmFirstTokenMs: random() < 0.1 ? null : random() * 1500,
    firstAudioMs: random() < 0.2 ? null : 200 + random() * 3000
  }))

const completed = (tenantId: string, callSid: string, streamSid: string, startedAt: Date): CompletedCall => ({
  tenantId,
  streamSid,
  callSid,
  direction: pick(["inbound", "outbound"] as const),
  from: "+15551110001",
  to: "+15550008000",
  agentVersionId: null,
  model: pick(["gpt-realtime", "gpt-realtime-mini"]),
  voice: pick(["verse", "alloy"]),
  startedAt,
  endedAt: new Date(startedAt.getTime() + 5_000 + random() * 600_000),
  endReason: "caller_hangup",
  errorMessage: null,
  transcript: [{ role: "user", content: "Where is my order?", timestamp: startedAt }],
  functionCalls: [],
  turnLatencies: randomTurns(),
  escalated: false,
  escalationReason: null
})

const status = (tenantId: string, callSid: string, callStatus: string) =>
  twilioWebhook(`/api/v1/call-status?tenant=${tenantId}`, {
    CallSid: callSid,
    CallStatus: callStatus,
    Direction: "inbound",
    From: "+15551110001",
    To: "+15550008000"
  }).pipe(Effect.tap((res) => expect(res.status).toBe(200)))

const writeCalls = (tenantId: string, count: number) =>
  Effect.gen(function*() {
    const records = yield* CallRecords
    const sql = yield* SqlClient.SqlClient
    const now = Date.now()
    for (let i = 0; i < count; i++) {
      const callSid = newCallSid()
      // Known from a status callback first (started_at is its first sighting until the record).
      if (random() < 0.2) yield* status(tenantId, callSid, "in-progress")
      const first = completed(tenantId, callSid, `MZ-${callSid}-1`, randomStart(now))
      yield* records.recordCompletedCall(first)
      // Back from an unanswered transfer: a second stream rewrites the record's latency.
      if (random() < 0.2) {
        yield* records.recordCompletedCall(completed(tenantId, callSid, `MZ-${callSid}-2`, new Date(first.endedAt.getTime() + 1_000)))
      }
      if (random() < 0.2) yield* status(tenantId, callSid, "completed")
      if (random() < 0.05) {
        yield* sql`update call_logs set media_started_at = ${randomStart(now)} where tenant_id = ${tenantId} and call_sid = ${callSid}`
      }
      if (random() < 0.05) yield* sql`delete from call_logs where tenant_id = ${tenantId} and call_sid = ${callSid}`
    }
  })

/** Averages are float sums, whose last bits follow the order rows are read in (either statement's plan). */
const averagesRounded = (text: string) =>
  JSON.stringify(JSON.parse(text), (key, value) =>
    key.startsWith("avg_") && typeof value === "number" ? Number(value.toPrecision(12)) : value)

layer(makeTestServer(), { timeout: 120_000 })("call-logs/latency", (it) => {
  it.effect("equals the full computation over call_logs on random data, per window and tenant", () =>
    Effect.gen(function*() {
      for (const tenant of TENANTS) yield* putTenant(tenant)
      // Interleaved: each tenant's calls are written between the other's.
      for (let round = 0; round < 3; round++) {
        for (const tenant of TENANTS) yield* writeCalls(tenant, 20)
      }
      for (const tenant of TENANTS) {
        for (const [window, span] of Object.entries(WINDOWS)) {
          for (const samples of [1, 10, 50]) {
            const res = yield* request("GET", `/api/v1/call-logs/latency?window=${window}&samples=${samples}`, {
              headers: { authorization: `Bearer ${tenant}-bearer-token-0123456789` }
            })
            expect(res.status).toBe(200)
            const since = span === null ? null : new Date(Date.now() - span)
            const expected = yield* latencyReport(tenant, window, since, samples)
            const label = `seed ${SEED}, ${tenant}, ${window}, samples ${samples}`
            expect(averagesRounded(res.text), label).toBe(averagesRounded(expected))
            // The body is what the schema's encoder writes: compact, fields in its order.
            expect(res.text, label).toBe(JSON.stringify(JSON.parse(res.text)))
          }
        }
      }
    }), { timeout: 120_000 })

  it.effect("keeps one call_log_latency row per call with turns, holding its summary's numbers", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* putTenant("lat-rows")
      yield* writeCalls("lat-rows", 40)
      const differences = yield* sql`
        (select l.* from call_logs c, lateral call_log_latency_row(c) l except select * from call_log_latency)
        union all
        (select * from call_log_latency except select l.* from call_logs c, lateral call_log_latency_row(c) l)`
      expect(differences, `seed ${SEED}`).toEqual([])
      const [{ rows }] = yield* sql<{ rows: number }>`select count(*)::int as rows from call_log_latency where tenant_id = 'lat-rows'`
      expect(rows).toBeGreaterThan(0)
    }), { timeout: 60_000 })
})
