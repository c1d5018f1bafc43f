import type { PgClient } from "@effect/sql-pg"
import type * as Statement from "@effect/sql/Statement"
import { KEPT_COUNT_FROM } from "./SearchCounts.js"

/**
 * The page and count of a search whose count can be kept (no `started_after`): a term with
 * fewer than KEPT_COUNT_FROM matches has its page taken from the matches its count read, not
 * planned from PostgreSQL's estimate of the LIKE.
 *
 * That estimate is drawn from a sample of 100 texts: a middling term seen once in the sample
 * looks common, so "order 97" (360 matches of 100,000) was planned as a newest-first walk over
 * 31,000 rows (180-750 ms); and the count and the page each ran the trigram index scan (for an
 * order number, 2-12 ms each). Here `hits`, the first KEPT_COUNT_FROM matches through the index,
 * is read once (a materialized CTE runs only when read, and never for a kept term): when it holds
 * fewer, they are all the matches and the page is the newest of them; otherwise (a kept term, or
 * a common one about to be) the page is the planner's choice, as before (bench/RESULTS.md,
 * helper vsearch). Each branch is gated by a one-time filter: only one runs.
 */
export const makeSearchPage = (sql: PgClient.PgClient) => {
  /** The kept count (`kept`, one row or none) and the first matches (`hits`). */
  const ctes = (kept: Statement.Fragment, matches: Statement.Fragment) =>
    sql`with kept as (${kept}),
      hits as materialized (select session_id, started_at from voice_session_search ${matches} limit ${KEPT_COUNT_FROM})`

  /** The exact count: the kept one, else the hits (fewer than KEPT_COUNT_FROM: all of them; else it registers). */
  const count = sql`select coalesce((select n from kept), (select count(*) from hits))`

  /**
   * The page's rows (`session_id, started_at`): the hits' when they are all the matches, else
   * `matches` (the same search over the table, ordered and bounded by `order`).
   */
  const pageIds = (matches: Statement.Fragment, order: Statement.Fragment) => {
    const allHits = sql`(not exists (select 1 from kept) and (select count(*) from hits) < ${KEPT_COUNT_FROM})`
    return sql`select * from (select session_id, started_at from hits where ${allHits} ${order}) few
      union all
      select * from (${matches}) more where not ${allHits}`
  }

  return { ctes, count, pageIds } as const
}
