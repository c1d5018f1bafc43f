import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { putTenant } from "./support/FakeTwilioServer.js"
import { averagesRounded, LATENCY_WINDOWS, latencyCalls } from "./support/LatencyCalls.js"
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
const WINDOWS = LATENCY_WINDOWS
const TENANTS = ["lat-a", "lat-b"]
const { writeCalls } = latencyCalls(seededRandom(SEED))

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
