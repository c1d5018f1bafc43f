import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { LatencyPointsRefresh } from "../src/CallLogs/LatencyPointsRefresh.js"
import { CallLatencyRepo } from "../src/CallLogs/LatencyRepo.js"
import { CallLatencyRollup } from "../src/CallLogs/LatencyRollup.js"
import { DatabaseUrl } from "../src/Database/Client.js"
import { putTenant } from "./support/FakeTwilioServer.js"
import { averagesRounded, DAY, latencyCalls } from "./support/LatencyCalls.js"
import { latencyReport } from "./support/LatencyOracle.js"
import { seededRandom } from "./support/SeededRandom.js"
import { makeTestServer, request } from "./support/TestServer.js"

/**
 * call-logs/latency for 30d and all time is read from the rollups of migrations 0036 and 0037 (day
 * slots, cached day points, bucket counts probed in the metrics' indexes). Its answer must equal the scan over call_log_latency to the
 * last digit (LatencyRepo's statement) and the full computation over call_logs' jsonb
 * (test/support/LatencyOracle.ts, averages to 12 digits), whatever is cached: no day point yet,
 * every point current, points left behind by later writes (late calls, rewritten records, moved
 * starts, deletes). And two processes writing one tenant's days at once neither deadlock nor
 * lose a count.
 */
const SEED = Number(process.env.LATENCY_SEED ?? Date.now() % 1_000_000)
const random = seededRandom(SEED)
const { writeCalls } = latencyCalls(random)
const ROLLED_UP = { "30d": 30 * DAY, all: null } as const
const WRITER = fileURLToPath(new URL("./support/LatencyWriter.ts", import.meta.url))

/** Rollup rows that a recount of call_log_latency does not give, and recounted rows missing from the rollups. */
const rollupDifferences = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const days = yield* sql`
    with rolled as (
      select tenant_id, day, sum(calls) as calls, sum(turns) as turns, sum(llm_avg_calls) as llm_avg_calls,
        sum(llm_avg_sum) as llm_avg_sum, sum(e2e_avg_calls) as e2e_avg_calls, sum(e2e_avg_sum) as e2e_avg_sum
      from call_log_latency_day_slots group by 1, 2 having sum(calls) <> 0),
    recounted as (
      select tenant_id, date_trunc('day', started_at, 'UTC') as day, count(*)::numeric, sum(turns)::numeric,
        count(llm_avg)::numeric, coalesce(sum(llm_avg::numeric), 0), count(e2e_avg)::numeric, coalesce(sum(e2e_avg::numeric), 0)
      from call_log_latency group by 1, 2)
    (select 'rolled' as side, * from rolled except select 'rolled', * from recounted)
    union all (select 'recounted', * from recounted except select 'recounted', * from rolled)`
  const values = yield* sql`
    with recounted as (
      select l.tenant_id, m.metric, call_log_latency_bucket(m.value) as lo, count(*) as calls
      from call_log_latency l, lateral call_log_latency_metrics(l) m group by 1, 2, 3),
    counted as (select tenant_id, metric, lo, calls from call_log_latency_buckets where calls <> 0)
    (select 'counted' as side, * from counted except select 'counted', * from recounted)
    union all (select 'recounted', * from recounted except select 'recounted', * from counted)`
  return [...days, ...values]
})

/** The two statements side by side (the service holds them privately, behind CallLogs). */
const Statements = Layer.merge(CallLatencyRollup.Default, CallLatencyRepo.Default)

/** For 30d and all: the rolled-up report equals the scan's exactly, and the endpoint the full computation. */
const expectReportsEqual = (tenants: ReadonlyArray<string>, label: string) =>
  Effect.gen(function*() {
    const rollup = yield* CallLatencyRollup
    const scan = yield* CallLatencyRepo
    for (const tenant of tenants) {
      for (const [window, span] of Object.entries(ROLLED_UP)) {
        for (const samples of [1, 10, 50]) {
          const context = `seed ${SEED}, ${label}, ${tenant}, ${window}, samples ${samples}`
          const since = span === null ? null : new Date(Date.now() - span)
          const rolled = yield* rollup.report(tenant, since, samples, window)
          expect(rolled, context).toEqual(yield* scan.report(tenant, since, samples, "day", window))
          const res = yield* request("GET", `/api/v1/call-logs/latency?window=${window}&samples=${samples}`, {
            headers: { authorization: `Bearer ${tenant}-bearer-token-0123456789` }
          })
          expect(res.status).toBe(200)
          const expected = yield* latencyReport(tenant, window, span === null ? null : new Date(Date.now() - span), samples)
          expect(averagesRounded(res.text), context).toBe(averagesRounded(expected))
        }
      }
    }
    expect(yield* rollupDifferences, `seed ${SEED}, ${label}`).toEqual([])
  }).pipe(Effect.provide(Statements))

/** The cached day points: how many days have one that is current, and how many days have calls. */
const cachedDays = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  sql<{ current: number; days: number }>`
    select count(*) filter (where p.changes = s.changes)::int as current, count(*)::int as days
    from (select tenant_id, day, sum(changes) as changes from call_log_latency_day_slots group by 1, 2) s
    left join call_log_latency_day_points p using (tenant_id, day)`.pipe(Effect.map((rows) => rows[0]!)))

/** A writer process (test/support/LatencyWriter.ts); its summary once it exits. */
const writer = (url: string, tenant: string, seed: number, ops: number, from: Date, to: Date) =>
  Effect.async<{ ops: number; errors: Record<string, number> }, Error>((resume) => {
    const child = spawn(process.execPath, ["--import", "tsx", WRITER, url, tenant, String(seed), String(ops), from.toISOString(), to.toISOString()], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout.on("data", (chunk) => (out += chunk))
    child.on("exit", (code) => resume(code === 0 ? Effect.succeed(JSON.parse(out)) : Effect.fail(new Error(`writer exited ${code}`))))
    return Effect.sync(() => child.kill())
  })

layer(makeTestServer({ LATENCY_POINTS_REFRESH_SECS: "0" }), { timeout: 180_000 })("call-logs/latency rollups", (it) => {
  it.effect("equal the scan with no point cached, every point current, and points left behind by later writes", () =>
    Effect.gen(function*() {
      const refresh = (yield* LatencyPointsRefresh).refresh
      const tenants = ["roll-a", "roll-b"]
      for (const tenant of tenants) yield* putTenant(tenant)
      for (const tenant of tenants) yield* writeCalls(tenant, 30)
      // The short ends: one call (n = 1: both ranks are 0), two calls, none.
      const sql = yield* SqlClient.SqlClient
      for (const [tenant, calls] of [["roll-one", 1], ["roll-two", 2], ["roll-none", 0]] as const) {
        yield* putTenant(tenant)
        tenants.push(tenant)
        for (let i = 0; i < calls; i++) {
          yield* sql`insert into call_logs (id, tenant_id, direction, first_seen_at, turn_latency_stats)
            values (gen_random_uuid(), ${tenant}, 'inbound', now() - ${`${i + 1} hours`}::interval,
              ${JSON.stringify({ turns: 2, summary: { llm_first_token_ms: { avg: 310.5 + i, p50: 300 + i, p95: 400.25 * (i + 1), p99: 410, max: 420 }, e2e_first_audio_ms: { avg: 900, p50: 880, p95: 950 + i, p99: null, max: 990 } } })}::jsonb)`
        }
      }
      // Many calls in few buckets (ranks deep inside one, the next rank in the next bucket), values
      // on and next to bucket bounds (1024 starts one, 1023.99 is below it), below 1 and negative.
      const dense = [1000, 1000.25, 1001, 1003.5, 1023.99, 1024, 1024, 1031.5, 0.5, 0, -2, 250.125]
      yield* putTenant("roll-dense")
      tenants.push("roll-dense")
      for (let i = 0; i < 60; i++) {
        const v = (k: number) => dense[(i * 7 + k * 5) % dense.length]!
        yield* sql`insert into call_logs (id, tenant_id, direction, first_seen_at, turn_latency_stats)
          values (gen_random_uuid(), 'roll-dense', 'inbound', now() - ${`${i * 17 + 1} hours`}::interval,
            ${JSON.stringify({ turns: 3, summary: { llm_first_token_ms: { avg: v(0), p50: v(1), p95: v(2), p99: v(3), max: 2000 }, e2e_first_audio_ms: { avg: v(4), p50: v(5), p95: v(6), p99: i % 5 === 0 ? null : v(7), max: 2100 } } })}::jsonb)`
      }
      expect((yield* cachedDays).current).toBe(0)
      yield* expectReportsEqual(tenants, "nothing cached")

      // Refreshed in small batches now and then as calls keep coming: some points current, some behind.
      for (let round = 0; round < 2; round++) {
        for (const tenant of tenants) {
          yield* writeCalls(tenant, 25, random.random() < 0.3 ? refresh(1 + random.int(5)) : Effect.void)
        }
      }
      yield* expectReportsEqual(tenants, "some cached")

      yield* refresh(10_000)
      const all = yield* cachedDays
      expect(all.current).toBe(all.days)
      yield* expectReportsEqual(tenants, "all cached")

      // Late calls, second records, moved starts and deletes after every day was cached.
      for (const tenant of tenants) yield* writeCalls(tenant, 20)
      const after = yield* cachedDays
      expect(after.current).toBeGreaterThan(0)
      expect(after.current).toBeLessThan(after.days)
      yield* expectReportsEqual(tenants, "cached, then written")
    }), { timeout: 180_000 })

  it.effect("two processes writing one tenant's days at once: no deadlock, no lost count, the same reports", () =>
    Effect.gen(function*() {
      const url = Redacted.value(yield* DatabaseUrl)
      const refresh = (yield* LatencyPointsRefresh).refresh
      const tenant = "roll-busy"
      yield* putTenant(tenant)
      const today = new Date(Math.floor(Date.now() / DAY) * DAY - 2 * 3_600_000)
      const yesterday = new Date(today.getTime() - DAY)
      // Each moves calls the other way between the same two days, while points are cached.
      const [a, b] = yield* Effect.all([
        writer(url, tenant, SEED, 400, yesterday, today),
        writer(url, tenant, SEED + 1, 400, today, yesterday),
        Effect.repeatN(Effect.zipRight(refresh(10), Effect.sleep("20 millis")), 40)
      ], { concurrency: "unbounded" })
      expect(a.errors, `seed ${SEED}`).toEqual({})
      expect(b.errors, `seed ${SEED}`).toEqual({})
      yield* expectReportsEqual([tenant], "two writers")
      yield* refresh(10_000)
      yield* expectReportsEqual([tenant], "two writers, refreshed")
    }), { timeout: 180_000 })
})
