import { PgClient } from "@effect/sql-pg"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { randomUUID } from "node:crypto"
import { turnLatencyStats } from "../src/CallLogs/LatencyStats.js"
import { averagesRounded, DAY, LATENCY_WINDOWS } from "./support/LatencyCalls.js"
import { latencyReport } from "./support/LatencyOracle.js"
import { call, type Replica, startReplicas } from "./support/Replicas.js"
import { query, testDatabaseUrl } from "./support/TestDatabase.js"
import { adminHeaders } from "./support/TestServer.js"

/**
 * Each replica keeps its own call-logs/latency reports (CallLogs/LatencyReportCache.ts). A write
 * through replica A, or by hand in PostgreSQL, must reach replica B's very next answer: B checks
 * the tenant's revision in the database on every request, so no notification is waited for.
 */
const TENANT = "cache-replicas"
const AUTH = { authorization: `Bearer ${TENANT}-bearer-token-0123456789` }

const answer = (replica: Replica, window: string) =>
  Effect.map(call(replica, "GET", `/api/v1/call-logs/latency?window=${window}&samples=5`, { headers: AUTH }), (res) => {
    expect(res.status, res.text).toBe(200)
    return res.text
  })

/** Both replicas answer every window as the full computation over call_logs gives it now. */
const expectFullScan = (url: string, replicas: ReadonlyArray<Replica>, label: string) =>
  Effect.gen(function*() {
    for (const replica of replicas) {
      for (const [window, span] of Object.entries(LATENCY_WINDOWS)) {
        const text = yield* answer(replica, window)
        const expected = yield* latencyReport(TENANT, window, span === null ? null : new Date(Date.now() - span), 5)
        expect(averagesRounded(text), `${label}: ${replica === replicas[0] ? "A" : "B"}, ${window}`).toBe(averagesRounded(expected))
      }
    }
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url) })))

/** A finished call of the tenant written by hand (as an import would), started `agoMs` ago. */
const insertCall = (url: string, callSid: string, agoMs: number, firstAudioMs: number) => {
  const startedAt = new Date(Date.now() - agoMs)
  const stats = turnLatencyStats([{ llmFirstTokenMs: firstAudioMs / 3, firstAudioMs }, { llmFirstTokenMs: 200, firstAudioMs: 600 }])
  return query(url, `insert into call_logs (id, tenant_id, call_sid, stream_sid, direction, model, voice, first_seen_at,
      media_started_at, media_ended_at, media_status, turn_latency_stats)
    values ($1, $2, $3, $4, 'inbound', 'gpt-realtime', 'verse', $5, $5, $6, 'completed', $7)`,
    [randomUUID(), TENANT, callSid, `MZ${callSid}`, startedAt, new Date(startedAt.getTime() + 90_000), JSON.stringify(stats)])
}

describe("call-logs/latency cache across replicas", () => {
  it.live("a write through replica A or by hand reaches replica B's next answer", () =>
    Effect.gen(function*() {
      const url = yield* testDatabaseUrl
      const [a, b] = yield* startReplicas(url)
      const tenant = yield* call(a, "PUT", `/api/v1/admin/tenants/${TENANT}`, {
        headers: adminHeaders,
        json: { tenant_id: TENANT, auth_token: `${TENANT}-bearer-token-0123456789` }
      })
      expect(tenant.status, tenant.text).toBe(200)
      for (let i = 0; i < 6; i++) yield* insertCall(url, `CAreplica${i}`, (1 + i * 4) * 3_600_000 + i * DAY, 800 + i * 300)
      yield* expectFullScan(url, [a, b], "seeded")
      const held = yield* answer(b, "all")
      expect(yield* answer(b, "all")).toBe(held)

      // Through A: Twilio's completed callback gives the slowest call its billed duration.
      const slowest = JSON.parse(held).slowest[0]
      const form = new URLSearchParams({
        CallSid: slowest.call_sid,
        CallStatus: "completed",
        CallDuration: "777",
        Direction: "inbound",
        From: "+15551110001",
        To: "+15550008000"
      })
      const posted = yield* Effect.promise(() =>
        fetch(`${a.baseUrl}/api/v1/call-status?tenant=${TENANT}`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: form.toString()
        })
      )
      expect(posted.status).toBe(200)
      expect(JSON.parse(yield* answer(b, "all")).slowest[0]).toEqual({ ...slowest, duration_seconds: 777 })
      yield* expectFullScan(url, [b, a], "after a status callback through A")

      // By hand: a new call in the last hour, then the slowest deleted.
      yield* insertCall(url, "CAreplica-new", 20 * 60_000, 5000)
      yield* expectFullScan(url, [b, a], "after a call written by hand")
      yield* query(url, "delete from call_logs where tenant_id = $1 and call_sid = $2", [TENANT, "CAreplica-new"])
      yield* expectFullScan(url, [b, a], "after a delete by hand")
    }).pipe(Effect.scoped), 180_000)
})
