import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { likePairs } from "../src/CallLogs/TranscriptPairs.js"
import { likeTrigrams, makeTrigramSample, searchPlan } from "../src/CallLogs/TranscriptTrigrams.js"
import { createTenant } from "./support/AgentFixtures.js"
import { bearer, makeTestServer, request } from "./support/TestServer.js"

/**
 * `call-logs?transcript_search=` reads a newest-first window first and, when that does not fill
 * the page, every match through the trigram index (CallLogs/Repo.ts). Either way the page must
 * be what the plain ILIKE answers: terms common in the newest calls, present only in old ones,
 * thinly spread, missing, short, phrases of common words that are rare or missing as a whole;
 * with offsets, cursors and another filter. Which way is taken depends on a sample of the
 * transcripts' trigrams (CallLogs/TranscriptTrigrams.ts): the terms cover every way.
 */
layer(makeTestServer())("call-log transcript search", (it) => {
  it.effect("answers what ILIKE answers, whichever way the page is found", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("cls")
      yield* createTenant("cls-other")
      const sql = yield* SqlClient.SqlClient
      // 600 calls, newest first by n: "common" in every 2nd, "thin" in every 97th, "old" only
      // in the 40 oldest, "Ümlaut" in one; every 5th escalated; equal start times in pairs.
      for (const tenant of ["cls", "cls-other"]) {
        yield* sql`insert into call_logs (id, tenant_id, direction, first_seen_at, escalated, transcript_text)
          select gen_random_uuid(), ${tenant}, 'inbound', now() - make_interval(mins => n / 2), n % 5 = 0,
            concat_ws(' ', 'call', n::text,
              case when n % 2 = 0 then 'a COMMON word' end,
              case when n % 97 = 0 then 'thin term' end,
              case when n > 560 then 'old topic' end,
              case when n = 300 then 'Ümlaut 50% off_x' end)
          from generate_series(1, 600) n`
      }
      const expected = (term: string, escalated: boolean | null, after: { startedAt: string; id: string } | null) =>
        sql<{ id: string }>`select id from call_logs where tenant_id = 'cls'
          and ${escalated === null ? sql`true` : sql`escalated = ${escalated}`}
          and ${after === null ? sql`true` : sql`(started_at, id) < (${after.startedAt}::timestamptz, ${after.id}::uuid)`}
          and transcript_text ilike ${`%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}
          order by started_at desc, id desc`.pipe(Effect.map((rows) => rows.map((r) => r.id)))
      const page = (query: string) =>
        request("GET", `/api/v1/call-logs?${query}`, { headers: bearer(token) }).pipe(Effect.map((res) => {
          expect([query, res.status]).toEqual([query, 200])
          return res.body as { calls: ReadonlyArray<{ id: string; started_at: string }>; next_cursor: string | null }
        }))

      const terms = [
        "common", "COMMON WORD", "thin", "thin term", "old topic", "old", "ümlaut", "50%", "off_x", "nothing here", "1", "99", "x",
        // Phrases whose every trigram is common: rare ("common word thin": 3 calls, "common word old": 20) or missing.
        "common word thin", "a common word old", "word call", "call 5 a"
      ]
      // The plans these terms get from this table's sample (taken at the first search, after the inserts).
      const sample = yield* Effect.flatten(makeTrigramSample(sql))
      const plans = new Set(terms.filter((term) => [...term].length > 2).map((term) => {
        const plan = searchPlan(sample, term, 30 * 100, 30)
        return plan.pairs !== undefined
          ? `${plan._tag === "RecentFirst" ? "recent first, then" : "every match"} by word pairs`
          : plan._tag === "RecentFirst" ? "recent first" : plan.narrowedTo === undefined ? "every match" : "every match of a word"
      }))
      // "word call": its trigrams are in every other call, its pair "ord cal" in none.
      expect([...plans].sort()).toEqual(["every match", "every match by word pairs", "every match of a word", "recent first"])

      let checked = 0
      for (const term of terms) {
        for (const escalated of [null, true]) {
          for (const [limit, offset] of [[3, 0], [50, 0], [7, 20], [100, 250]] as const) {
            const query = `transcript_search=${encodeURIComponent(term)}&limit=${limit}&offset=${offset}${escalated === null ? "" : "&escalated=true"}`
            const all = yield* expected(term, escalated, null)
            const got = yield* page(query)
            expect([query, got.calls.map((c) => c.id)]).toEqual([query, all.slice(offset, offset + limit)])
            checked += all.slice(offset, offset + limit).length
          }
          // Cursor pages: the second page of 3 after the first.
          const first = yield* page(`transcript_search=${encodeURIComponent(term)}&limit=3${escalated === null ? "" : "&escalated=true"}`)
          if (first.next_cursor !== null) {
            const last = first.calls[first.calls.length - 1]!
            const rest = yield* expected(term, escalated, { startedAt: last.started_at, id: last.id })
            const second = yield* page(`transcript_search=${encodeURIComponent(term)}&limit=3&cursor=${first.next_cursor}${escalated === null ? "" : "&escalated=true"}`)
            expect([term, second.calls.map((c) => c.id)]).toEqual([term, rest.slice(0, 3)])
          }
        }
      }
      // The cases do reach matches (both ways of finding them).
      expect(checked).toBeGreaterThan(500)
    }))

  it.effect("a term's trigrams are those pg_trgm extracts from it", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // A term between blanks has every word's edges shown: show_trgm's padded trigrams.
      for (const term of ["order 155095,", "Ing the ORDER", "a b", "x-ray 42", "thin"]) {
        const [row] = yield* sql<{ trigrams: ReadonlyArray<string> }>`select show_trgm(${term}) as trigrams`
        expect([term, [...new Set(likeTrigrams(` ${term} `))].sort()]).toEqual([term, [...row!.trigrams].sort()])
      }
      // At the term's ends a word may go on in the text: no padding there.
      expect(likeTrigrams("ing the order")).toEqual(["ing", "ng ", "  t", " th", "the", "he ", "  o", " or", "ord", "rde", "der"])
    }))
  it.effect("a term's word pairs are those search_word_pairs extracts, where the term shows them", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      // A text between blanks shows every word's edges: all its pairs.
      for (const text of ["Customer asked about order 155095, the agent", "a b  cd\nEF-g", "x", "über die Straße"]) {
        const [row] = yield* sql<{ pairs: ReadonlyArray<string> }>`select search_word_pairs(lower(${text})) as pairs`
        const ascii = [...new Set(row!.pairs)].filter((pair) => /^[\x20-\x7e]+$/.test(pair)).sort()
        expect([text, [...likePairs(` ${text} `)].sort()]).toEqual([text, ascii])
      }
      // At the term's ends a word may go on in the text: three characters of it, or no pair.
      expect(likePairs("ing the order")).toEqual(["ing the", "the ord"])
      expect(likePairs("agent asked")).toEqual(["ent ask"])
      expect(likePairs("a b")).toEqual([])
      expect(likePairs(" A b ")).toEqual(["a b"])
      expect(likePairs("x, yz!")).toEqual([])
      expect(likePairs("the Ümlaut")).toEqual([])
    }))
})

/**
 * Phrases cut from random transcripts at any character, searched in a database of those
 * transcripts alone: the service's trigram sample (taken at its first search) is all of them,
 * so words are common and a phrase's rarer word pairs lead the way (TranscriptPairs.ts).
 */
layer(makeTestServer())("call-log transcript search by word pairs", (it) => {
  it.effect("random phrases: what ILIKE answers, and every match holds the term's word pairs", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("clp")
      const sql = yield* SqlClient.SqlClient
      // A fixed pseudo-random sequence (mulberry32): the same transcripts and terms every run.
      let state = 20261203
      const random = () => {
        state = (state + 0x6d2b79f5) | 0
        let t = Math.imul(state ^ (state >>> 15), 1 | state)
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296
      }
      const pick = <A>(items: ReadonlyArray<A>) => items[Math.floor(random() * items.length)]!
      const words = ["the", "THE", "agent", "asked", "order", "a", "ok", "details", "checked", "Ümlaut", "straße", "été",
        "42", "2026", "x-ray", "can't", "e…mail", "İstanbul", "ab"]
      const separators = [" ", " ", " ", "  ", ", ", ". ", "-", "!", "\t", "/", " … ", "%", "_"]
      const turn = () => Array.from({ length: 3 + Math.floor(random() * 8) }, () => pick(words))
        .reduce((text, word) => `${text}${pick(separators)}${word}`)
      // Turns joined as the service stores them (CallRecords.ts): a term may span two.
      const transcripts = Array.from({ length: 300 }, () => Array.from({ length: 1 + Math.floor(random() * 3) }, turn).join("\n"))
      yield* sql`insert into call_logs (id, tenant_id, direction, first_seen_at, transcript_text)
        select gen_random_uuid(), 'clp', 'inbound', now() - make_interval(mins => n::int), t
        from unnest(${transcripts}::text[]) with ordinality as s(t, n)`
      // Cuts of transcripts at any character (words cut anywhere, blanks, turn ends), and
      // words joined in orders that may occur nowhere.
      const terms = [
        ...Array.from({ length: 120 }, () => {
          const chars = [...pick(transcripts)]
          const from = Math.floor(random() * chars.length)
          return chars.slice(from, from + 3 + Math.floor(random() * 20)).join("")
        }),
        ...Array.from({ length: 60 }, () => `${pick(words)}${pick(separators)}${pick(words)}${random() < 0.5 ? "" : pick(separators) + pick(words)}`),
        "details.\nthe", "  agent  asked", "ing the order", "42, the", "ümlaut stra", "istanbul the", "t's"
      ].filter((term) => [...term].length >= 3)
      const sample = yield* Effect.flatten(makeTrigramSample(sql))
      const byPairs = terms.filter((term) => searchPlan(sample, term, 30 * 100, 30).pairs !== undefined)
      let paired = 0
      for (const term of terms) {
        const pattern = `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
        const pairs = likePairs(term)
        const [missed] = yield* sql<{ matches: number; missed: number }>`select count(*)::int as matches,
            (count(*) filter (where not search_word_pairs(lower(transcript_text)) @> ${pairs}::text[]))::int as missed
          from call_logs where tenant_id = 'clp' and transcript_text ilike ${pattern}`
        expect([term, pairs, missed!.missed]).toEqual([term, pairs, 0])
        if (pairs.length > 0 && missed!.matches > 0) paired++
        const all = yield* sql<{ id: string }>`select id from call_logs where tenant_id = 'clp' and transcript_text ilike ${pattern}
          order by started_at desc, id desc limit 100`
        const res = yield* request("GET", `/api/v1/call-logs?limit=100&transcript_search=${encodeURIComponent(term)}`, { headers: bearer(token) })
        expect([term, res.status]).toEqual([term, 200])
        const got = (res.body as { calls: ReadonlyArray<{ id: string }> }).calls.map((c) => c.id)
        expect([term, got]).toEqual([term, all.map((r) => r.id)])
      }
      // The pairs were put to the test: terms with pairs that have matches, pages found by them.
      expect(paired).toBeGreaterThan(50)
      expect(byPairs.length).toBeGreaterThan(50)
    }))
})
