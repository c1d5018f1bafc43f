import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { testDatabaseUrl, withClient } from "./support/TestDatabase.js"

/**
 * Migration 0038: the functions a call's record runs per written row (its tables' expression
 * indexes and generated columns, and the rollup helpers their triggers perform) are plpgsql, whose
 * statements are planned once per connection. A `language sql` function that is not inlined is
 * parsed and planned again for every statement that calls it, i.e. for every record (~0.6 ms of
 * PostgreSQL CPU per record, bench/RESULTS.md stop 32 endcpu). Their results are unchanged.
 */
const WRITTEN = ["call_logs", "voice_sessions", "voice_outcomes", "voice_session_evals", "voice_session_search", "call_log_latency"]
const PERFORMED = ["call_log_hourly_add", "call_log_hourly_upsert", "voice_outcome_hourly_add", "voice_session_eval_hourly_add",
  "call_log_latency_days_apply"]

// The bodies of migrations 0031 and 0035, as the reference.
const REFERENCE = `
create function pg_temp.grams_0031(t text) returns text[] language sql immutable strict as $$
  with chars as (select string_to_array(t collate "C", null) as a)
  select array(select distinct g from (
    select unnest(a) from chars
    union all
    select unnest(a[1:cardinality(a) - 1]) || unnest(a[2:cardinality(a)]) from chars) as grams(g))
$$;
create function pg_temp.pairs_0035(t text) returns text[] language sql immutable strict as $$
  select array(select right(a, 3) || ' ' || left(b, 3)
    from (select array_remove(regexp_split_to_array(t collate "C", '[\\x01-\\x2f\\x3a-\\x40\\x5b-\\x60\\x7b-\\x7f]+'), '') as w) s,
      unnest(w, w[2:]) as p(a, b) where b is not null)
$$;`

const TEXTS = [
  "",
  "a",
  "ab",
  "Hello, how can I help you today?",
  "assistant: I'd like to check order #12345 -- it hasn't arrived; user: ok!!",
  "Grüße aus Köln, ça va? 東京 🙂 naïve café",
  "tab\tnew\nline\u0001control   spaces",
  "the order the order the order ing the order ".repeat(40)
]

describe("the record's per-row functions", () => {
  it.scopedLive("are plpgsql (planned once per connection), not sql functions planned at every record", () =>
    Effect.gen(function*() {
      const url = yield* testDatabaseUrl
      const rows = yield* withClient(url, async (client) =>
        (await client.query<{ name: string; language: string }>(`
          select distinct p.proname as name, l.lanname as language
          from pg_depend d
          join pg_proc p on d.refclassid = 'pg_proc'::regclass and d.refobjid = p.oid
          join pg_language l on l.oid = p.prolang
          join pg_namespace n on n.oid = p.pronamespace and n.nspname = 'public'
          where (d.classid = 'pg_class'::regclass
              and d.objid in (select indexrelid from pg_index where indrelid::regclass::text = any($1)))
            or (d.classid = 'pg_attrdef'::regclass
              and d.objid in (select oid from pg_attrdef where adrelid::regclass::text = any($1)))
          union
          select p.proname, l.lanname from pg_proc p join pg_language l on l.oid = p.prolang where p.proname = any($2)
          order by 1`, [WRITTEN, PERFORMED])).rows)
      expect(rows.map((r) => r.name)).toEqual(expect.arrayContaining(["search_grams", "search_word_pairs", ...PERFORMED]))
      expect(rows.filter((r) => r.language !== "plpgsql")).toEqual([])
    }))

  it.scopedLive("give the same grams and word pairs as the sql bodies they replace", () =>
    Effect.gen(function*() {
      const url = yield* testDatabaseUrl
      const rows = yield* withClient(url, async (client) => {
        await client.query(REFERENCE)
        return (await client.query<{ grams: boolean; pairs: boolean; n: number }>(`
          select bool_and(search_grams(t) @> pg_temp.grams_0031(t) and pg_temp.grams_0031(t) @> search_grams(t)
              and cardinality(search_grams(t)) = cardinality(pg_temp.grams_0031(t))) as grams,
            bool_and(search_word_pairs(t) = pg_temp.pairs_0035(t)) as pairs,
            count(*)::int as n
          from unnest($1::text[] || array[lower($2)]) t`, [TEXTS, TEXTS[5]])).rows[0]!
      })
      expect(rows).toEqual({ grams: true, pairs: true, n: TEXTS.length + 1 })
      // Still strict: no text, no array.
      const nulls = yield* withClient(url, async (client) =>
        (await client.query("select search_grams(null) as g, search_word_pairs(null) as p")).rows[0])
      expect(nulls).toEqual({ g: null, p: null })
    }))
})
