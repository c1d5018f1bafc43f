import type { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"
import type { Execute, RowValues } from "../Database/HotStatement.js"
import { pageBounds, preparable } from "../Database/PageBounds.js"
import { isGram, likePattern } from "../Database/SearchTerms.js"
import { sessionJson } from "./ListJson.js"
import { type CountedTerm, KEPT_COUNT_FROM, makeSearchCounts } from "./SearchCounts.js"
import { makeSearchPage } from "./SearchPage.js"

export interface SessionFilter {
  readonly tenantId: string
  readonly status: string | null
  readonly search: string | null
  readonly startedAfter: Date | null
  readonly ascending: boolean
  readonly limit: number
  readonly offset: number
}

/**
 * A list row as an array (Database/HotStatement.ts `values`): the count of all matches, whether
 * it was kept, then one session's values in its select list's order (VoiceSessions/ListJson.ts),
 * from `SESSION_VALUES_FROM`.
 */
export type SessionListRow = RowValues

const COUNT = 0
const KEPT = 1
/** Where a list row's session values start (`sessionJson.rowsOfValues`). */
export const SESSION_VALUES_FROM = 2

/** Separates the searched fields in `voice_session_search.search_text` (migrations 0026, 0029). */
const FIELD_SEPARATOR = "\uFFFF"

/**
 * The list and search of `voice_sessions`: a page and the exact count of all matches, a
 * search answered by the narrow `voice_session_search` table when it can be.
 */
export const makeSessionList = (sql: PgClient.PgClient, execute: Execute) => {
  const searchCounts = makeSearchCounts(sql)
  const searchPage = makeSearchPage(sql)

  /**
   * A search the narrow `voice_session_search` table answers (migration 0029): its text is
   * lowercased and holds U+FFFF between fields, so for a term without U+FFFF `search_text LIKE
   * lower(p)` is the per-field ILIKE. A term with U+FFFF could match across two fields there.
   * A term of one or two characters (code points) is also looked up by its gram (0031).
   */
  const indexedSearch = (f: SessionFilter): CountedTerm | null =>
    f.search !== null && !f.search.includes(FIELD_SEPARATOR)
      ? { tenantId: f.tenantId, pattern: likePattern(f.search), gram: isGram(f.search) ? f.search : null }
      : null

  /** The filters on `voice_session_search` (same names as in voice_sessions, but the id). */
  const searchWhere = (f: SessionFilter, term: CountedTerm) =>
    sql`where tenant_id = ${f.tenantId}
      and ${f.status === null ? sql`true` : sql`status = ${f.status}`}
      and ${f.startedAfter === null ? sql`true` : sql`started_at > ${f.startedAfter.toISOString()}::timestamptz`}
      and ${searchCounts.matching(term)}`

  const where = (f: SessionFilter) => {
    const pattern = f.search === null ? null : likePattern(f.search)
    return sql`where tenant_id = ${f.tenantId}
      and ${f.status === null ? sql`true` : sql`status = ${f.status}`}
      and ${f.startedAfter === null ? sql`true` : sql`started_at > ${f.startedAfter.toISOString()}::timestamptz`}
      and ${
      pattern === null
        ? sql`true`
        // Only a term with U+FFFF comes here: the plain predicate (no index).
        : sql`(customer_phone ilike ${pattern} or agent_name ilike ${pattern}
        or summary ilike ${pattern} or transcript::text ilike ${pattern})`
    }`
  }

  /**
   * The count of all matches, as a scalar query; for a search without a date, the kept count
   * of a registered term, else the live count up to KEPT_COUNT_FROM (SearchPage.ts): a count
   * that reaches it registers the term (`list`).
   */
  const count = (f: SessionFilter) => {
    const term = indexedSearch(f)
    if (term !== null) {
      return f.startedAfter !== null ? sql`select count(*) from voice_session_search ${searchWhere(f, term)}` : searchPage.count
    }
    return f.search === null && f.startedAfter === null
      ? sql`select coalesce(sum(n), 0) from voice_session_counts
          where tenant_id = ${f.tenantId} and ${f.status === null ? sql`true` : sql`status = ${f.status}`}`
      : sql`select count(*) from voice_sessions ${where(f)}`
  }

  /** The term whose count can be kept (a search without a date), else null. */
  const keepable = (f: SessionFilter) => f.startedAfter === null ? indexedSearch(f) : null

  /** The list statement's prefix: the kept count and the first matches as CTEs when it can be, and whether it was kept. */
  const keptCte = (f: SessionFilter) => {
    const term = keepable(f)
    return term === null
      ? { with: sql``, kept: sql`false` }
      : {
        with: searchPage.ctes(searchCounts.kept(f.tenantId, f.status, term.pattern), searchWhere(f, term)),
        kept: sql`exists (select 1 from kept)`
      }
  }

  /**
   * The tenant's unfiltered first page walks its newest-first index for any values: one plan
   * suits it, so it is prepared (Database/HotStatement.ts `prepared`); searches are not.
   */
  const isPrepared = (f: SessionFilter) =>
    f.search === null && f.status === null && f.startedAfter === null && preparable(f.limit, f.offset)

  /** The page's rows: found in the narrow table when it answers the search, then read by id. */
  const pageRows = (f: SessionFilter) => {
    const direction = f.ascending ? sql`asc` : sql`desc`
    const term = indexedSearch(f)
    if (term === null) {
      return sql`select * from voice_sessions ${where(f)}
          order by started_at ${direction}, id
          ${pageBounds(sql, f.limit, f.offset, isPrepared(f))}`
    }
    const order = sql`order by started_at ${direction}, session_id limit ${f.limit} offset ${f.offset}`
    const matches = sql`select session_id, started_at from voice_session_search ${searchWhere(f, term)} ${order}`
    const ids = f.startedAfter === null ? searchPage.pageIds(matches, order) : matches
    return sql`select * from voice_sessions where tenant_id = ${f.tenantId} and id in (select session_id from (${ids}) ids)`
  }

  /**
   * A count that reached KEPT_COUNT_FROM without a kept one: the term is registered now (this
   * request waits for it, with any other of this process for the term) and its kept count
   * read; the live count when the registration did not finish in time.
   */
  const fullCount = (f: SessionFilter, term: CountedTerm) =>
    Effect.gen(function*() {
      if (yield* searchCounts.ensureRegistered(term)) {
        const kept = yield* sql<{ n: number }>`select n::int as n from (${searchCounts.kept(f.tenantId, f.status, term.pattern)}) k`
        if (kept[0] !== undefined) return kept[0].n
      }
      const live = yield* sql<{ n: number }>`select count(*)::int as n from voice_session_search ${searchWhere(f, term)}`
      return live[0]!.n
    })

  /**
   * A page and the count of all matches in one statement (one round trip, no second fiber):
   * the page's columns as the list item is written (ListJson.ts), each row carrying the count
   * (computed once). Only an empty page needs the count on its own. The outer order is on the
   * page's own columns (PostgreSQL sees the page is in that order already: no sort).
   */
  const list = (f: SessionFilter) => {
    const direction = f.ascending ? sql`asc` : sql`desc`
    const cte = keptCte(f)
    const term = keepable(f)
    return (isPrepared(f) ? execute.preparedValues : execute.values)(sql`${cte.with} select (${count(f)})::int as count, ${cte.kept} as kept,
        ${sql.literal(sessionJson.selectList)}
        from (${pageRows(f)}) page order by page.started_at ${direction}, page.id`).pipe(
      Effect.flatMap((rows) =>
        rows.length > 0
          ? Effect.succeed({ count: rows[0]![COUNT] as number, kept: rows[0]![KEPT] as boolean, sessions: rows })
          : Effect.map(
            sql<{ count: number; kept: boolean }>`${cte.with} select (${count(f)})::int as count, ${cte.kept} as kept`,
            (counted) => ({ count: counted[0]?.count ?? 0, kept: counted[0]?.kept ?? false, sessions: rows })
          )
      ),
      Effect.flatMap((page) =>
        term === null || page.kept || page.count < KEPT_COUNT_FROM
          ? Effect.succeed({ count: page.count, sessions: page.sessions })
          : Effect.map(fullCount(f, term), (count) => ({ count, sessions: page.sessions }))
      )
    )
  }

  return { list } as const
}
