import type { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"

/**
 * Exact counts of search terms searched often (migration 0030): kept by triggers in the
 * transaction that writes a session, so `voice-sessions?search=<common word>` reads a few rows
 * instead of visiting and rechecking every match through the (lossy) trigram index.
 */

/**
 * A search term counted this many times or more gets its count kept by triggers: below it the
 * count through the trigram index is a few milliseconds.
 */
export const KEPT_COUNT_FROM = 1000
/** Registered terms per tenant: each one costs every session write of the tenant a LIKE. */
const KEPT_TERMS_PER_TENANT = 32
/** The longest pattern registered (characters): a longer one would not fit the btree key. */
const KEPT_PATTERN_MAX = 200
/** The advisory lock (first key) between session writers and a registration (migration 0030). */
const SEARCH_COUNT_LOCK = 727_002

export const makeSearchCounts = (sql: PgClient.PgClient) => {
  /**
   * The count a registered term keeps, as a scalar subquery: no row (null) when the term is
   * not registered.
   */
  const kept = (tenantId: string, status: string | null, pattern: string) =>
    sql`select coalesce(sum(c.n), 0) from voice_session_search_terms t
        left join voice_session_search_counts c on c.tenant_id = t.tenant_id and c.pattern = t.pattern
          and ${status === null ? sql`true` : sql`c.status = ${status}`}
        where t.tenant_id = ${tenantId} and t.pattern = lower(${pattern})
        group by t.tenant_id, t.pattern`

  /**
   * Registers a term under the tenant's advisory lock taken exclusively, so no writer of the
   * tenant is between its write and its commit without having seen the term. The writers of
   * that tenant wait for this one count. The oldest registrations past KEPT_TERMS_PER_TENANT
   * are removed.
   */
  const register = (tenantId: string, pattern: string) =>
    sql.withTransaction(Effect.gen(function*() {
      yield* sql`select pg_advisory_xact_lock(${SEARCH_COUNT_LOCK}, hashtext(${tenantId}))`
      const added = yield* sql`insert into voice_session_search_terms (tenant_id, pattern)
        values (${tenantId}, lower(${pattern})) on conflict do nothing returning pattern`
      if (added.length === 0) return
      // Counts left by an earlier registration of the term (not kept since it was removed).
      yield* sql`delete from voice_session_search_counts where tenant_id = ${tenantId} and pattern = lower(${pattern})`
      yield* sql`insert into voice_session_search_counts (tenant_id, pattern, status, n)
        select tenant_id, lower(${pattern}), status, count(*) from voice_session_search
        where tenant_id = ${tenantId} and search_text like lower(${pattern})
        group by tenant_id, status`
      yield* sql`with removed as (
          delete from voice_session_search_terms where tenant_id = ${tenantId} and pattern not in (
            select pattern from voice_session_search_terms where tenant_id = ${tenantId}
            order by registered_at desc, pattern limit ${KEPT_TERMS_PER_TENANT})
          returning pattern)
        delete from voice_session_search_counts where tenant_id = ${tenantId} and pattern in (select pattern from removed)`
    }))

  /** Registrations under way in this process (one per term, not one per request). */
  const registering = new Set<string>()
  const registerInBackground = (tenantId: string, pattern: string) => {
    if (pattern.length > KEPT_PATTERN_MAX) return Effect.void
    const key = `${tenantId}\u0000${pattern}`
    if (registering.has(key)) return Effect.void
    registering.add(key)
    return register(tenantId, pattern).pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("search count not registered", cause)),
      Effect.ensuring(Effect.sync(() => registering.delete(key))),
      Effect.forkDaemon,
      Effect.asVoid
    )
  }

  return { kept, registerInBackground } as const
}
