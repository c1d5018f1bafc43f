import { PgClient } from "@effect/sql-pg"
import { expect, layer } from "@effect/vitest"
import { Deferred, Effect, Fiber, Option } from "effect"
import { randomUUID } from "node:crypto"
import { makeSearchCounts } from "../src/VoiceSessions/SearchCounts.js"
import { createTenant } from "./support/AgentFixtures.js"
import { bearer, makeTestServer, request } from "./support/TestServer.js"

/**
 * Registering a frequent term's kept count (SearchCounts.ts, migration 0031): the first request
 * past the threshold registers it and answers the exact count; a writer of the tenant that had
 * not seen the term when it was registered is still counted; writers never wait for a
 * registration; two processes registering at once, or one taking over a registration that
 * stopped, keep one exact count.
 */
const WALL_LIMIT = "60 seconds"

layer(makeTestServer())("kept search counts: registration", (it) => {
  const insertMany = (tenant: string, prefix: string, n: number, summary: string) =>
    Effect.flatMap(PgClient.PgClient, (sql) =>
      sql`insert into voice_sessions (id, tenant_id, stream_id, status, summary, transcript, started_at)
        select gen_random_uuid(), ${tenant}, ${prefix} || g, case when g % 4 = 0 then 'failed' else 'completed' end,
          ${summary}, '[]'::jsonb, now() - make_interval(mins => g)
        from generate_series(1, ${n}) g`)
  const insertOne = (tenant: string, stream: string, summary: string, status = "completed") =>
    Effect.flatMap(PgClient.PgClient, (sql) =>
      sql`insert into voice_sessions (id, tenant_id, stream_id, status, summary, transcript, started_at)
        values (${randomUUID()}, ${tenant}, ${stream}, ${status}, ${summary}, '[]'::jsonb, now())`)
  const live = (tenant: string, term: string) =>
    Effect.flatMap(PgClient.PgClient, (sql) =>
      sql<{ n: number }>`select count(*)::int as n from voice_sessions where tenant_id = ${tenant}
        and (summary ilike ${`%${term}%`} or transcript::text ilike ${`%${term}%`})`).pipe(Effect.map((rows) => rows[0]!.n))
  const term = (tenant: string, pattern: string) =>
    Effect.flatMap(PgClient.PgClient, (sql) =>
      sql<{ ready: boolean }>`select ready from voice_session_search_terms where tenant_id = ${tenant} and pattern = ${pattern}`)
  const counted = (token: string, query: string) =>
    request("GET", `/api/v1/voice-sessions?limit=3&${query}`, { headers: bearer(token) }).pipe(
      Effect.map((res) => {
        expect([query, res.status]).toEqual([query, 200])
        return res.body.count as number
      })
    )

  it.effect("a writer in flight when the term is registered is counted, and no writer waits", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("vrc")
      const sql = yield* PgClient.PgClient
      yield* insertMany("vrc", "MZ-", 1200, "a refund asked")
      // A writer that inserted a matching session before the term exists, still open.
      const release = yield* Deferred.make<void>()
      const inserted = yield* Deferred.make<void>()
      const writer = yield* sql.withTransaction(Effect.gen(function*() {
        yield* insertOne("vrc", "MZ-inflight", "refund in flight")
        yield* Deferred.succeed(inserted, undefined)
        yield* Deferred.await(release)
      })).pipe(Effect.fork)
      yield* Deferred.await(inserted)
      // The first count past the threshold registers the term and waits for that writer.
      const first = yield* counted(token, "search=refund").pipe(Effect.fork)
      yield* Effect.gen(function*() {
        while ((yield* term("vrc", "%refund%")).length === 0) yield* Effect.sleep("20 millis")
      }).pipe(Effect.timeout(WALL_LIMIT))
      expect((yield* term("vrc", "%refund%"))[0]!.ready).toBe(false)
      // Another writer meanwhile is not held by the registration (the old one locked them out).
      // Another status: the writer in flight holds its status's counter rows until it commits.
      yield* insertOne("vrc", "MZ-meanwhile", "refund meanwhile", "active").pipe(Effect.timeout("20 seconds"))
      expect(Option.isNone(yield* Fiber.poll(first))).toBe(true)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(writer)
      const answered = yield* Fiber.join(first).pipe(Effect.timeout(WALL_LIMIT))
      expect((yield* term("vrc", "%refund%"))[0]!.ready).toBe(true)
      // 1,200 + the writer in flight + the one meanwhile; the first answer saw at least the committed ones.
      expect(yield* live("vrc", "refund")).toBe(1202)
      expect(answered).toBeGreaterThanOrEqual(1201)
      expect(yield* counted(token, "search=refund")).toBe(1202)
      yield* insertOne("vrc", "MZ-after", "refund after")
      expect(yield* counted(token, "search=refund")).toBe(1203)
      // Counted from the kept rows (not live): the registration left its base in slot 0.
      const slots = yield* sql<{ n: number }>`select count(*)::int as n from voice_session_search_counts
        where tenant_id = 'vrc' and pattern = '%refund%'`
      expect(slots[0]!.n).toBeGreaterThan(0)
    }))

  it.effect("two processes registering at once, and a registration taken over, keep one exact count", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("vrt")
      const sql = yield* PgClient.PgClient
      yield* insertMany("vrt", "MZ-", 1100, "an invoice question")
      // Two replicas: each its own SearchCounts (its own registrations under way).
      const [a, b] = [makeSearchCounts(sql), makeSearchCounts(sql)]
      const invoice = { tenantId: "vrt", pattern: "%invoice%", gram: null }
      const both = yield* Effect.all([a.ensureRegistered(invoice), b.ensureRegistered(invoice)], { concurrency: 2 }).pipe(
        Effect.timeout(WALL_LIMIT)
      )
      expect(both).toEqual([true, true])
      expect(yield* counted(token, "search=invoice")).toBe(1100)
      for (const status of ["completed", "failed"]) {
        const expected = yield* sql<{ n: number }>`select count(*)::int as n from voice_sessions
          where tenant_id = 'vrt' and status = ${status} and summary ilike '%invoice%'`
        expect([status, yield* counted(token, `search=invoice&status=${status}`)]).toEqual([status, expected[0]!.n])
      }

      // A registration whose replica stopped a while ago (not ready, old claim, counts missing):
      // the next request past the threshold takes it over.
      yield* insertMany("vrt", "MZ-w-", 1050, "warranty claim")
      yield* sql`insert into voice_session_search_terms (tenant_id, pattern, ready, claim, claimed_at)
        values ('vrt', '%warranty%', false, gen_random_uuid(), now() - interval '5 minutes')`
      yield* insertOne("vrt", "MZ-w-late", "warranty late")
      expect(yield* counted(token, "search=warranty").pipe(Effect.timeout(WALL_LIMIT))).toBe(1051)
      expect((yield* term("vrt", "%warranty%"))[0]!.ready).toBe(true)
      yield* insertOne("vrt", "MZ-w-later", "warranty later")
      expect(yield* counted(token, "search=warranty")).toBe(1052)
    }))

  it.effect("a short term (one or two characters) past the threshold is counted exactly and kept", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("vrs")
      const sql = yield* PgClient.PgClient
      yield* insertMany("vrs", "MZ-", 1300, "zq marks the spot")
      yield* insertMany("vrs", "MZ-o-", 40, "other")
      expect(yield* counted(token, "search=ZQ")).toBe(1300)
      expect((yield* term("vrs", "%zq%"))[0]!.ready).toBe(true)
      yield* sql`delete from voice_sessions where tenant_id = 'vrs' and stream_id in ('MZ-1', 'MZ-2', 'MZ-o-1')`
      expect(yield* counted(token, "search=zq")).toBe(1298)
      expect(yield* counted(token, "search=z")).toBe(yield* live("vrs", "z"))
      const page = yield* request("GET", "/api/v1/voice-sessions?limit=2&search=zq", { headers: bearer(token) })
      expect(page.body.sessions.map((s: { stream_id: string }) => s.stream_id)).toEqual(["MZ-3", "MZ-4"])
    }))
})
