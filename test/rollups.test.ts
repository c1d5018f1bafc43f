import { SqlClient } from "@effect/sql"
import type { PgClient } from "@effect/sql-pg"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { createTenant } from "./support/AgentFixtures.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { bearer, makeTestServer, request } from "./support/TestServer.js"
import * as Oracle from "./support/RollupOracle.js"
import * as Before from "./support/StatsOracle.js"
import { seededRandom } from "./support/SeededRandom.js"

/**
 * Statistics answered from the hourly rollups (migration 0010) must equal a full scan of the
 * source tables, on random data: calls arriving late (hours or days in the past), calls updated
 * after they end (Twilio status, answered_by, media end, escalation, a start moved to another
 * hour), outcomes and evaluations updated and deleted, and rows at the edge of the 24h window.
 */
const SEED = Number(process.env.ROLLUP_SEED ?? Date.now() % 1_000_000)
const { pick, random } = seededRandom(SEED)
const HOUR = 3_600_000

/** Window starts the test asks about (hours ago). */
const EDGES = [1.5, 3, 24, 48, 7 * 24]

/** A time in the last `days`, half of them close to (but not within a minute of) a window start. */
const randomTime = (now: number, days: number) => {
  if (random() < 0.5) {
    const offset = (random() < 0.5 ? -1 : 1) * (60_000 + random() * 0.6 * HOUR)
    return new Date(now - pick(EDGES) * HOUR + offset)
  }
  return new Date(now - random() * days * 24 * HOUR + (random() < 0.05 ? HOUR : 0))
}

const round = (value: unknown): unknown =>
  typeof value === "number" ? Math.round(value * 1e9) / 1e9
  : Array.isArray(value) ? value.map(round)
  : value !== null && typeof value === "object" ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, round(v)]))
  : value

const get = (token: string, path: string) =>
  request("GET", `/api/v1${path}`, { headers: bearer(token) }).pipe(Effect.map((res) => {
    expect(res.status).toBe(200)
    return res.body
  }))

const writeCalls = (tenantId: string, count: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const now = Date.now()
    const ids: Array<string> = []
    for (let i = 0; i < count; i++) {
      const id = randomUUID()
      ids.push(id)
      const seen = randomTime(now, 40)
      const media = random() < 0.7 ? new Date(seen.getTime() + random() * 30_000) : null
      const ended = media !== null && random() < 0.8 ? new Date(media.getTime() + random() * 600_000) : null
      yield* sql`insert into call_logs (id, tenant_id, direction, first_seen_at, media_started_at, media_ended_at,
          media_status, escalated, twilio_status, twilio_duration_seconds, answered_by)
        values (${id}, ${tenantId}, ${pick(["inbound", "outbound"])}, ${seen}, ${media}, ${ended},
          ${ended === null ? null : pick(["completed", "failed", "escalated", null])}, ${random() < 0.1},
          ${pick([null, "ringing", "completed", "busy", "no-answer", "failed", "canceled"])},
          ${random() < 0.5 ? Math.floor(random() * 900) : null}, ${pick([null, "human", "machine_start", "fax"])})`
    }
    // Updated after the end: Twilio's callbacks, the media bridge finishing late, escalation.
    for (const id of ids.filter(() => random() < 0.4)) {
      yield* sql`update call_logs set twilio_status = ${pick(["completed", "busy", "no-answer", "failed"])},
          answered_by = ${pick([null, "human", "machine_end_beep"])},
          twilio_duration_seconds = ${Math.floor(random() * 900)}, escalated = ${random() < 0.2},
          media_ended_at = coalesce(media_ended_at, media_started_at + interval '95 seconds'), updated_at = now()
        where id = ${id}`
    }
    // A start that moves to another hour (the stream opened long after the call was first seen).
    for (const id of ids.filter(() => random() < 0.1)) {
      yield* sql`update call_logs set media_started_at = first_seen_at + make_interval(secs => ${random() * 4 * 3600})
        where id = ${id}`
    }
    for (const id of ids.filter(() => random() < 0.05)) yield* sql`delete from call_logs where id = ${id}`
  })

const writeSessions = (tenantId: string, count: number) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const now = Date.now()
    const outcomes: Array<string> = []
    const sessions: Array<string> = []
    for (let i = 0; i < count; i++) {
      const session = randomUUID()
      sessions.push(session)
      const at = randomTime(now, 20)
      yield* sql`insert into voice_sessions (id, tenant_id, stream_id, status, started_at)
        values (${session}, ${tenantId}, ${`MZ-${session}`}, ${pick(["active", "completed", "failed"])}, ${at})`
      const outcome = randomUUID()
      outcomes.push(outcome)
      yield* sql`insert into voice_outcomes (id, tenant_id, voice_session_id, stream_sid, resolution, billing_status,
          billable_sku, outcome_source, escalated, risk_level, duration_seconds, occurred_at)
        values (${outcome}, ${tenantId}, ${session}, ${`MZ-${session}`}, ${pick(["resolved", "escalated", "abandoned"])},
          ${pick(["not_billable", "pending_emit", "emitted", "failed", "failed_billing"])}, ${pick([null, "voice_ai_resolution", "minute"])},
          'call', ${random() < 0.2}, ${pick([null, "low", "high"])}, ${random() < 0.8 ? Math.floor(random() * 900) : null}, ${at})`
      if (random() < 0.8) {
        yield* sql`insert into voice_session_evals (id, tenant_id, voice_session_id, score, created_at)
          values (${randomUUID()}, ${tenantId}, ${session}, ${Math.round(random() * 100) / 100}, ${randomTime(now, 20)})`
      }
    }
    // Updates within the hour (the analysis's risk level, a billing change): counted by difference (0040).
    for (const id of outcomes.filter(() => random() < 0.4)) {
      yield* sql`update voice_outcomes set risk_level = ${pick([null, "low", "medium", "high"])},
          resolution = ${pick(["resolved", "escalated", "abandoned"])}, billable_sku = ${pick([null, "voice_ai_resolution", "minute"])},
          billing_status = ${pick(["not_billable", "pending_emit", "emitted"])}, escalated = ${random() < 0.2},
          duration_seconds = ${random() < 0.8 ? Math.floor(random() * 900) : null} where id = ${id}`
    }
    for (const id of outcomes.filter(() => random() < 0.3)) {
      yield* sql`update voice_outcomes set billing_status = ${pick(["emitted", "failed", "failed_billing"])}, risk_level = ${pick([null, "medium"])},
          occurred_at = occurred_at - make_interval(secs => ${random() * 7200}) where id = ${id}`
    }
    for (const id of sessions.filter(() => random() < 0.3)) {
      yield* sql`update voice_session_evals set score = ${Math.round(random() * 100) / 100}, updated_at = now()
        where voice_session_id = ${id}`
      yield* sql`update voice_sessions set status = 'completed' where id = ${id}`
    }
    for (const id of sessions.filter(() => random() < 0.05)) yield* sql`delete from voice_sessions where id = ${id}`
    for (const id of outcomes.filter(() => random() < 0.05)) yield* sql`delete from voice_outcomes where id = ${id}`
  })

/** The API's answer and the full scan, re-read until equal (both read "now" a few ms apart). */
const sameAs = <A, B, R1, R2>(api: Effect.Effect<A, unknown, R1>, scan: Effect.Effect<B, unknown, R2>) =>
  Effect.gen(function*() {
    let last: [unknown, unknown] = [null, null]
    for (let attempt = 0; attempt < 3; attempt++) {
      last = [round(yield* api), round(yield* scan)]
      if (JSON.stringify(last[0]) === JSON.stringify(last[1])) break
    }
    expect(last[0], `seed ${SEED}`).toEqual(last[1])
  })

layer(makeTestServer(), { timeout: 120_000 })("statistics from rollups", (it) => {
  it.effect("equal a full scan on random data with late and updated calls", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("ru")
      yield* createTenant("ru-other")
      yield* writeCalls("ru", 300)
      yield* writeCalls("ru-other", 40)
      yield* writeSessions("ru", 200)
      yield* writeSessions("ru-other", 30)

      yield* sameAs(
        get(token, "/call-logs/stats").pipe(Effect.tap((body) => expectSpecSchema(body, "CallStatsResponse")), Effect.map((b) => b.stats)),
        Oracle.callStats("ru")
      )
      for (const window of ["24h", "90m", "7d", "30d"]) {
        yield* sameAs(
          get(token, `/voice-outcomes/stats?window=${window}`).pipe(Effect.map((b) => b.stats)),
          Oracle.outcomeStats("ru", window)
        )
      }
      for (const [window, bucket] of [["24h", "1h"], ["7d", "1d"], ["3h", "15m"], ["30d", "7d"], ["2d", "90m"]] as const) {
        yield* sameAs(
          get(token, `/voice-outcomes/timeseries?window=${window}&bucket=${bucket}`).pipe(Effect.map((b) => b.timeseries.points)),
          Oracle.outcomeSeries("ru", window, bucket)
        )
      }
      yield* sameAs(get(token, "/voice-session-evals/stats"), Oracle.evalStats("ru"))
      for (const status of [undefined, "completed", "failed"]) {
        yield* sameAs(
          get(token, `/voice-sessions?limit=1${status === undefined ? "" : `&status=${status}`}`).pipe(Effect.map((b) => b.count)),
          Oracle.sessionCount("ru", status)
        )
      }
    }))

  it.effect("stay exact under concurrent writers in the same tenant and hour", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("ru-busy")
      const sql = yield* SqlClient.SqlClient
      const at = new Date(Date.now() - 3 * HOUR)
      // Sessions' statements interleave on separate pool connections, as two replicas' would.
      yield* Effect.all(Array.from({ length: 60 }, (_, i) =>
        Effect.gen(function*() {
          const id = randomUUID()
          yield* sql`insert into call_logs (id, tenant_id, direction, first_seen_at, media_started_at)
            values (${id}, 'ru-busy', 'inbound', ${at}, ${at})`
          yield* sql`update call_logs set twilio_status = ${i % 3 === 0 ? "busy" : "completed"},
              twilio_duration_seconds = ${i}, escalated = ${i % 5 === 0} where id = ${id}`
          if (i % 7 === 0) yield* sql`delete from call_logs where id = ${id}`
        })), { concurrency: 8, discard: true })
      yield* sameAs(get(token, "/call-logs/stats").pipe(Effect.map((b) => b.stats)), Oracle.callStats("ru-busy"))
      const stats = (yield* get(token, "/call-logs/stats")).stats
      expect(stats).toMatchObject({ total_calls: 51, busy_calls: 17 })
    }))

  it.effect("are written byte for byte as the schema path wrote them, for every window and bucket", () =>
    Effect.gen(function*() {
      const tenants = ["rb", "rb-other", "rb-empty"]
      const tokens = yield* Effect.forEach(tenants, (tenant) => createTenant(tenant))
      yield* writeCalls("rb", 200)
      yield* writeCalls("rb-other", 60)
      yield* writeSessions("rb", 150)
      yield* writeSessions("rb-other", 40)

      /** The body the service answers and the old computation's, re-read until equal (each reads "now"). */
      const sameBody = (token: string, path: string, before: Effect.Effect<string, unknown, PgClient.PgClient>) =>
        Effect.gen(function*() {
          let last: [string, string] = ["", ""]
          for (let attempt = 0; attempt < 3; attempt++) {
            const res = yield* request("GET", `/api/v1${path}`, { headers: bearer(token) })
            expect(res.status, path).toBe(200)
            expect(res.headers["content-type"], path).toBe("application/json")
            last = [res.text, yield* before]
            if (last[0] === last[1]) break
          }
          expect(last[0], `${path}, seed ${SEED}`).toBe(last[1])
        })

      for (const [i, tenant] of tenants.entries()) {
        const token = tokens[i]!
        yield* sameBody(token, "/call-logs/stats", Before.callStatsBody(tenant))
        yield* sameBody(token, "/voice-session-evals/stats", Before.evalStatsBody(tenant))
        for (const window of [undefined, "24h", "90m", "1h", "7d", "2w", "30d", "day", " 48H"]) {
          const query = window === undefined ? "" : `?window=${encodeURIComponent(window)}`
          yield* sameBody(token, `/voice-outcomes/stats${query}`, Before.outcomeStatsBody(tenant, window))
        }
        for (
          const [window, bucket] of [
            [undefined, undefined], ["24h", "1h"], ["7d", "1d"], ["3h", "15m"], ["30d", "7d"], ["2d", "90m"],
            ["hour", "minute"], ["30d", "week"], ["10m", "1h"], ["40d", "day"]
          ] as const
        ) {
          const query = [window === undefined ? [] : [`window=${window}`], bucket === undefined ? [] : [`bucket=${bucket}`]].flat().join("&")
          yield* sameBody(token, `/voice-outcomes/timeseries${query === "" ? "" : `?${query}`}`, Before.outcomeSeriesBody(tenant, window, bucket))
        }
      }
    }))
})
