import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { createTenant } from "./support/AgentFixtures.js"
import { bearer, makeTestServer, request } from "./support/TestServer.js"
import { eventually } from "./support/Eventually.js"

/**
 * `voice-sessions?search=` reads the stored, lowercased `search_text` (migration 0026). For any
 * term it must answer exactly what the per-field ILIKE predicate answers: the same sessions, the
 * same count, no match across two fields' boundary.
 */
const SEP = "\uFFFF"
const rows: ReadonlyArray<{ phone: string | null; agent: string | null; summary: string | null; transcript: unknown }> = [
  { phone: "+15555550101", agent: "Refund Desk", summary: "Customer wanted a REFUND", transcript: [{ role: "user", content: "Where is my refund?" }] },
  { phone: "+15555550102", agent: "Straße Agent", summary: null, transcript: [{ role: "user", content: "ÄÖÜ straße İstanbul ǅ" }] },
  { phone: null, agent: null, summary: "50% off, under_score and back\\slash", transcript: [] },
  { phone: "+15555550103", agent: "Ends With Ab", summary: "cd starts here", transcript: [{ content: "quote \" and \n newline 😀" }] },
  { phone: "+15555550104", agent: `odd${SEP}sep`, summary: "x", transcript: { nested: { Key: "VALUE" } } },
  { phone: "+15555550105", agent: "Billing", summary: "Invoice question", transcript: [{ role: "assistant", content: "Your invoice is ready" }] }
]
const TERMS = [
  "refund", "REFUND", "Refund Desk", "straße", "STRASSE", "äöü", "istanbul", "İstanbul", "ǅ", "ǆ", "50%", "%", "_", "under_score",
  "\\", "back\\slash", "\"", "😀", "0101", "5555", "ab", "abcd", "Ab" + "cd", "b cd", "ends with abcd", "+1555",
  `odd${SEP}sep`, SEP, "sep", "value", "\"key\"", "role", "invoice", "nothing matches this"
]

layer(makeTestServer())("voice-session search over the stored text", (it) => {
  it.effect("answers what the per-field ILIKE predicate answers, for awkward terms", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("vss")
      const otherToken = yield* createTenant("vss-other")
      const sql = yield* SqlClient.SqlClient
      for (const [i, row] of rows.entries()) {
        for (const tenant of ["vss", "vss-other"]) {
          yield* sql`insert into voice_sessions (id, tenant_id, stream_id, status, customer_phone, agent_name, summary, transcript, started_at)
            values (${randomUUID()}, ${tenant}, ${`MZ-${i}`}, ${i % 2 === 0 ? "completed" : "failed"}, ${row.phone}, ${row.agent},
              ${row.summary}, ${JSON.stringify(row.transcript)}::jsonb, now() - ${`${i} minutes`}::interval)`
        }
      }
      const escape = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
      let matched = 0
      for (const term of TERMS) {
        for (const status of [undefined, "completed"]) {
          const pattern = escape(term)
          const expected = yield* sql<{ id: string }>`select id from voice_sessions where tenant_id = 'vss'
            and ${status === undefined ? sql`true` : sql`status = ${status}`}
            and (customer_phone ilike ${pattern} or agent_name ilike ${pattern} or summary ilike ${pattern}
              or transcript::text ilike ${pattern})
            order by started_at desc, id`
          const query = `search=${encodeURIComponent(term)}${status === undefined ? "" : `&status=${status}`}`
          const res = yield* request("GET", `/api/v1/voice-sessions?${query}`, { headers: bearer(token) })
          expect([term, status, res.status]).toEqual([term, status, 200])
          expect([term, status, res.body.count]).toEqual([term, status, expected.length])
          expect([term, status, res.body.sessions.map((s: { id: string }) => s.id)]).toEqual([term, status, expected.map((r) => r.id)])
          matched += expected.length
        }
      }
      // The terms do exercise matches (and the cross-boundary ones match nothing).
      expect(matched).toBeGreaterThan(20)
      const across = yield* request("GET", `/api/v1/voice-sessions?search=${encodeURIComponent("ab" + SEP + "cd")}`, { headers: bearer(token) })
      expect(across.body.count).toBe(0)

      // The stored text follows updates (a summary rewritten by the post-call analysis).
      yield* sql`update voice_sessions set summary = 'Now about a Toaster' where tenant_id = 'vss' and stream_id = 'MZ-5'`
      const updated = yield* request("GET", "/api/v1/voice-sessions?search=toaster", { headers: bearer(token) })
      expect(updated.body.count).toBe(1)
      expect(updated.body.sessions[0].stream_id).toBe("MZ-5")
      // ... and a session becoming another status with a new transcript (a call finishing).
      yield* sql`update voice_sessions set status = 'completed', transcript = '[{"content":"a kettle now"}]'::jsonb
        where tenant_id = 'vss' and stream_id = 'MZ-5'`
      const finished = yield* request("GET", "/api/v1/voice-sessions?search=kettle&status=completed", { headers: bearer(token) })
      expect(finished.body.sessions.map((s: { stream_id: string }) => s.stream_id)).toEqual(["MZ-5"])
      const toaster = yield* request("GET", "/api/v1/voice-sessions?search=toaster&status=failed", { headers: bearer(token) })
      expect(toaster.body.count).toBe(0)

      // Deleted sessions are no longer found or counted.
      yield* sql`delete from voice_sessions where tenant_id = 'vss' and stream_id = 'MZ-0'`
      const deleted = yield* request("GET", "/api/v1/voice-sessions?search=refund", { headers: bearer(token) })
      expect(deleted.body.count).toBe(0)
      const other = yield* request("GET", "/api/v1/voice-sessions?search=refund", { headers: bearer(otherToken) })
      expect(other.body.count).toBe(1)
    }))

  it.effect("pages, sort orders and dates answer what the per-field ILIKE predicate answers", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("vsp")
      const sql = yield* SqlClient.SqlClient
      // Equal start times too: the order is then by id.
      for (let i = 0; i < 30; i++) {
        yield* sql`insert into voice_sessions (id, tenant_id, stream_id, status, summary, transcript, started_at)
          values (${randomUUID()}, 'vsp', ${`MZ-${i}`}, ${i % 3 === 0 ? "failed" : "completed"},
            ${i % 2 === 0 ? "Refund asked" : "Other"}, ${JSON.stringify([{ content: `turn ${i}` }])}::jsonb,
            '2026-01-01T00:00:00Z'::timestamptz + ${`${i % 10} minutes`}::interval)`
      }
      const cases = [
        { query: "search=refund&limit=4&offset=0", sort: "desc", after: null, status: null, limit: 4, offset: 0 },
        { query: "search=refund&limit=4&offset=4", sort: "desc", after: null, status: null, limit: 4, offset: 4 },
        { query: "search=refund&limit=5&offset=3&sort=asc", sort: "asc", after: null, status: null, limit: 5, offset: 3 },
        { query: "search=TURN%201&limit=50&sort=started_at_asc&status=completed", sort: "asc", after: null, status: "completed", limit: 50, offset: 0, term: "TURN 1" },
        { query: "search=refund&started_after=2026-01-01T00:04:00Z", sort: "desc", after: "2026-01-01T00:04:00Z", status: null, limit: 50, offset: 0 }
      ]
      for (const c of cases) {
        const pattern = `%${(c.term ?? "refund")}%`
        const direction = c.sort === "asc" ? sql`asc` : sql`desc`
        const all = yield* sql<{ id: string }>`select id from voice_sessions where tenant_id = 'vsp'
          and ${c.status === null ? sql`true` : sql`status = ${c.status}`}
          and ${c.after === null ? sql`true` : sql`started_at > ${c.after}::timestamptz`}
          and (summary ilike ${pattern} or transcript::text ilike ${pattern})
          order by started_at ${direction}, id`
        const res = yield* request("GET", `/api/v1/voice-sessions?${c.query}`, { headers: bearer(token) })
        expect([c.query, res.status, res.body.count]).toEqual([c.query, 200, all.length])
        expect([c.query, res.body.sessions.map((s: { id: string }) => s.id)])
          .toEqual([c.query, all.slice(c.offset, c.offset + c.limit).map((r) => r.id)])
      }
    }))
  it.effect("pages either side of the kept-count threshold answer what the per-field ILIKE predicate answers", () =>
    Effect.gen(function*() {
      // "alpha" in 999 sessions (all of them in the count's first matches: the page is taken from
      // those, SearchPage.ts), "beta" in 1,050 (past them: the page is searched for, before and
      // after the term is registered); timestamps repeat, so the id breaks ties.
      const token = yield* createTenant("vsb")
      const sql = yield* SqlClient.SqlClient
      yield* sql`insert into voice_sessions (id, tenant_id, stream_id, status, summary, transcript, started_at)
        select gen_random_uuid(), 'vsb', 'MZ-' || n, case when n % 3 = 0 then 'failed' else 'completed' end,
          concat_ws(' ', case when n <= 999 then 'Alpha' end, case when n > 50 then 'BETA' end, 'x'), '[]'::jsonb,
          '2026-01-01T00:00:00Z'::timestamptz + make_interval(mins => n % 400)
        from generate_series(1, 1100) n`
      // The first request of "beta" registers it: its page is the one past the first matches.
      const pages = [
        { params: "limit=20&offset=985&sort=asc", asc: true, status: null, limit: 20, offset: 985 },
        { params: "limit=7", asc: false, status: null, limit: 7, offset: 0 },
        { params: "limit=9&offset=300&status=failed", asc: false, status: "failed", limit: 9, offset: 300 }
      ]
      for (const round of ["first", "again"]) {
        for (const term of ["alpha", "beta"]) {
          for (const page of pages) {
            const all = yield* sql<{ id: string }>`select id from voice_sessions where tenant_id = 'vsb'
              and ${page.status === null ? sql`true` : sql`status = ${page.status}`} and summary ilike ${`%${term}%`}
              order by started_at ${page.asc ? sql`asc` : sql`desc`}, id`
            const query = `search=${term}&${page.params}`
            const res = yield* request("GET", `/api/v1/voice-sessions?${query}`, { headers: bearer(token) })
            expect([round, query, res.status, res.body.count]).toEqual([round, query, 200, all.length])
            expect([round, query, res.body.sessions.map((s: { id: string }) => s.id)])
              .toEqual([round, query, all.slice(page.offset, page.offset + page.limit).map((r) => r.id)])
          }
        }
      }
      const registered = yield* sql<{ pattern: string }>`select pattern from voice_session_search_terms where tenant_id = 'vsb'`
      expect(registered.map((r) => r.pattern)).toEqual(["%beta%"])
    }))
  it.effect("a frequent term's count kept by triggers (migration 0030) stays the exact count", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("vsk")
      const otherToken = yield* createTenant("vsk-other")
      const sql = yield* SqlClient.SqlClient
      // 1,200 sessions with "refund" (past the registration threshold of 1,000), 300 without.
      for (const tenant of ["vsk", "vsk-other"]) {
        yield* sql`insert into voice_sessions (id, tenant_id, stream_id, status, summary, transcript, started_at)
          select gen_random_uuid(), ${tenant}, 'MZ-' || n, case when n % 4 = 0 then 'failed' else 'completed' end,
            case when n <= 1200 then 'A REFUND asked' else 'Other' end, '[]'::jsonb, now() - make_interval(mins => n)
          from generate_series(1, 1500) n`
      }
      const expected = (status: string | null) =>
        sql<{ n: number }>`select count(*)::int as n from voice_sessions where tenant_id = 'vsk'
          and ${status === null ? sql`true` : sql`status = ${status}`}
          and (customer_phone ilike '%refund%' or agent_name ilike '%refund%' or summary ilike '%refund%'
            or transcript::text ilike '%refund%')`.pipe(Effect.map((rows) => rows[0]!.n))
      const counted = (query: string, bearerToken = token) =>
        request("GET", `/api/v1/voice-sessions?limit=5&${query}`, { headers: bearer(bearerToken) }).pipe(
          Effect.map((res) => res.body.count as number)
        )
      const registered = sql<{ n: number }>`select count(*)::int as n from voice_session_search_terms
        where tenant_id = 'vsk' and pattern = '%refund%'`.pipe(Effect.map((rows) => rows[0]!.n))
      const check = Effect.gen(function*() {
        for (const status of [null, "completed", "failed", "active"]) {
          const query = `search=Refund${status === null ? "" : `&status=${status}`}`
          expect([query, yield* counted(query)]).toEqual([query, yield* expected(status)])
        }
      })

      expect(yield* counted("search=refund")).toBe(1200)
      // The first count past the threshold registers the term (that request waits for it).
      expect(yield* eventually(registered, (n) => n !== 0, 15_000)).toBe(1)
      yield* check

      // Writes after the registration: new sessions, a status change, a text change either
      // way, a deletion, a session moving in and out of the term, and another tenant's writes.
      yield* sql`insert into voice_sessions (id, tenant_id, stream_id, status, summary, transcript, started_at)
        values (${randomUUID()}, 'vsk', 'MZ-new-1', 'active', null, '[{"content":"my refund please"}]'::jsonb, now()),
          (${randomUUID()}, 'vsk', 'MZ-new-2', 'active', 'nothing', '[]'::jsonb, now())`
      yield* check
      yield* sql`update voice_sessions set status = 'completed' where tenant_id = 'vsk' and stream_id = 'MZ-new-1'`
      yield* sql`update voice_sessions set summary = 'refunded' where tenant_id = 'vsk' and stream_id = 'MZ-new-2'`
      yield* sql`update voice_sessions set summary = 'Other' where tenant_id = 'vsk' and stream_id in ('MZ-1', 'MZ-2', 'MZ-4')`
      yield* sql`update voice_sessions set status = 'failed' where tenant_id = 'vsk' and stream_id = 'MZ-3'`
      yield* sql`delete from voice_sessions where tenant_id = 'vsk' and stream_id in ('MZ-5', 'MZ-1300', 'MZ-8')`
      yield* sql`insert into voice_sessions (id, tenant_id, stream_id, status, summary, transcript, started_at)
        values (${randomUUID()}, 'vsk-other', 'MZ-new-1', 'completed', 'refund', '[]'::jsonb, now())`
      yield* check
      // 1,200 + 2 new - 3 rewritten - 2 deleted (MZ-1300 did not match).
      expect(yield* counted("search=refund")).toBe(1197)
      expect(yield* counted("search=refund", otherToken)).toBe(1201)
      // A date filter is counted from the sessions (the kept count has no dates).
      const since = yield* request("GET", `/api/v1/voice-sessions?limit=5&search=refund&started_after=${encodeURIComponent(new Date(Date.now() - 10 * 60_000).toISOString())}`, { headers: bearer(token) })
      const sinceExpected = yield* sql<{ n: number }>`select count(*)::int as n from voice_sessions where tenant_id = 'vsk'
        and started_at > now() - interval '10 minutes' and (summary ilike '%refund%' or transcript::text ilike '%refund%')`
      expect(since.body.count).toBe(sinceExpected[0]!.n)
      // The count is really read from the kept rows: altering them shows in the answer.
      yield* sql`update voice_session_search_counts set n = n + 1000 where tenant_id = 'vsk' and pattern = '%refund%' and status = 'failed' and slot = 0`
      expect(yield* counted("search=refund&status=failed")).toBe((yield* expected("failed")) + 1000)
      // Truncating the sessions removes the registrations (and their counts) with them.
      yield* sql`truncate voice_sessions cascade`
      expect(yield* registered).toBe(0)
      expect((yield* sql<{ n: number }>`select count(*)::int as n from voice_session_search_counts`)[0]!.n).toBe(0)
      yield* sql`insert into voice_sessions (id, tenant_id, stream_id, status, summary, transcript, started_at)
        values (${randomUUID()}, 'vsk', 'MZ-after', 'completed', 'refund', '[]'::jsonb, now())`
      expect(yield* counted("search=refund")).toBe(1)
    }))
})
