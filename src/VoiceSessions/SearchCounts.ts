import type { PgClient } from "@effect/sql-pg"
import { Deferred, Effect, FiberId } from "effect"

/**
 * Exact counts of search terms searched often (migrations 0030, 0031): kept by triggers in the
 * transaction that writes a session, so `voice-sessions?search=<common word>` reads a few rows
 * instead of visiting and rechecking every match.
 *
 * A term is registered by the first request that finds it counted KEPT_COUNT_FROM times or more
 * (the request counts at most that many), and that request waits for the registration: 20
 * requests a second of a new common word are not 20 full counts a second until a background
 * registration lands. Requests of this process for the same term wait for the same one; another
 * replica registering the term at the same time waits for the first to mark it ready.
 *
 * Registration (migration 0031): the term is inserted not ready, so every writer from then on
 * keeps its count; the registration waits for the writers that held the tenant's shared lock at
 * that moment (they may have missed the term: they take the lock before reading the terms and
 * hold it until commit); then one statement adds the live count minus what the counters already
 * hold, both read in its snapshot, and marks the term ready. Writers never wait for it.
 */

/**
 * A search term counted this many times or more gets its count kept by triggers: below it the
 * count through an index is a few milliseconds.
 */
export const KEPT_COUNT_FROM = 1000
/** Registered terms per tenant: each one costs every session write of the tenant a LIKE. */
const KEPT_TERMS_PER_TENANT = 32
/** The longest pattern registered (characters): a longer one would not fit the btree key. */
const KEPT_PATTERN_MAX = 200
/** The advisory lock (first key) session writers hold shared until they commit (migration 0030). */
const SEARCH_COUNT_LOCK = 727_002
/** A registration not ready after this long is taken over: its replica stopped. */
const CLAIM_TAKEN_OVER_AFTER_SECONDS = 60
/** How long a request waits for the writers before the term, or another replica's registration. */
const WAIT_LIMIT_MS = 10_000
const POLL = "10 millis"

/** What a search needs to count it: the LIKE pattern over `search_text` and, for a short term, its gram. */
export interface CountedTerm {
  readonly tenantId: string
  /** `%term%`, LIKE-escaped; lowered by the statements. */
  readonly pattern: string
  /** The term itself when it has one or two characters (answered by `search_grams`, migration 0031). */
  readonly gram: string | null
}

const until = (check: Effect.Effect<boolean, unknown>, limitMs: number) =>
  Effect.gen(function*() {
    const deadline = Date.now() + limitMs
    while (!(yield* check)) {
      if (Date.now() > deadline) return false
      yield* Effect.sleep(POLL)
    }
    return true
  })

export const makeSearchCounts = (sql: PgClient.PgClient) => {
  /** The rows of `voice_session_search` with the term (the stored grams and their index for a short one). */
  const matching = (term: CountedTerm) =>
    sql`search_text like lower(${term.pattern})
      and ${term.gram === null ? sql`true` : sql`grams @> array[lower(${term.gram})]`}`

  /**
   * The count a ready term keeps, as a query of one row (`n`), or of none when the term is
   * not registered or not ready yet.
   */
  const kept = (tenantId: string, status: string | null, pattern: string) =>
    sql`select coalesce(sum(c.n), 0) as n from voice_session_search_terms t
        left join voice_session_search_counts c on c.tenant_id = t.tenant_id and c.pattern = t.pattern
          and ${status === null ? sql`true` : sql`c.status = ${status}`}
        where t.tenant_id = ${tenantId} and t.pattern = lower(${pattern}) and t.ready
        group by t.tenant_id, t.pattern`

  /** Claims the registration: a new term, or one whose registration stopped. Else another's. */
  const claim = (term: CountedTerm) =>
    sql<{ claim: string }>`insert into voice_session_search_terms as t (tenant_id, pattern, ready, claim, claimed_at)
      values (${term.tenantId}, lower(${term.pattern}), false, gen_random_uuid(), now())
      on conflict (tenant_id, pattern) do update set claim = excluded.claim, claimed_at = excluded.claimed_at
        where not t.ready and t.claimed_at < now() - make_interval(secs => ${CLAIM_TAKEN_OVER_AFTER_SECONDS})
      returning claim::text`.pipe(Effect.map((rows) => rows[0]?.claim ?? null))

  const lockRows = (tenantId: string) =>
    sql`locktype = 'advisory' and granted and objsubid = 2 and classid = ${SEARCH_COUNT_LOCK}::oid
      and objid = hashtext(${tenantId})::oid
      and database = (select oid from pg_database where datname = current_database())`

  /** Waits until the tenant's writers in flight now have ended (committed or not). */
  const writersEnded = (tenantId: string) =>
    Effect.gen(function*() {
      const holders = (yield* sql<{ vxid: string }>`select virtualtransaction as vxid from pg_locks
        where ${lockRows(tenantId)}`).map((row) => row.vxid)
      if (holders.length === 0) return true
      return yield* until(
        sql<{ n: number }>`select count(*)::int as n from pg_locks
          where ${lockRows(tenantId)} and virtualtransaction = any(${holders}::text[])`.pipe(
          Effect.map((rows) => rows[0]!.n === 0)
        ),
        WAIT_LIMIT_MS
      )
    })

  /**
   * The live count minus what the counters hold, both in this statement's snapshot, added to
   * the counters (to their latest values) while the term is marked ready, if still ours.
   */
  const complete = (term: CountedTerm, claimed: string) =>
    sql<{ ready: boolean }>`with ours as (
        update voice_session_search_terms set ready = true, registered_at = now()
        where tenant_id = ${term.tenantId} and pattern = lower(${term.pattern}) and not ready and claim = ${claimed}::uuid
        returning pattern),
      live as (select status, count(*) as n from voice_session_search
        where tenant_id = ${term.tenantId} and search_text like lower(${term.pattern}) group by status),
      held as (select status, sum(n) as n from voice_session_search_counts
        where tenant_id = ${term.tenantId} and pattern = lower(${term.pattern}) group by status),
      added as (
        insert into voice_session_search_counts as c (tenant_id, pattern, status, slot, n)
        select ${term.tenantId}, lower(${term.pattern}), status, 0, coalesce(live.n, 0) - coalesce(held.n, 0)
        from live full join held using (status), ours
        where coalesce(live.n, 0) <> coalesce(held.n, 0)
        order by status
        on conflict (tenant_id, pattern, status, slot) do update set n = c.n + excluded.n)
      select exists (select 1 from ours) as ready`.pipe(Effect.map((rows) => rows[0]?.ready === true))

  /** The oldest ready registrations past KEPT_TERMS_PER_TENANT, removed with their counts. */
  const trim = (tenantId: string) =>
    sql`with removed as (
        delete from voice_session_search_terms where tenant_id = ${tenantId} and ready and pattern not in (
          select pattern from voice_session_search_terms where tenant_id = ${tenantId} and ready
          order by registered_at desc, pattern limit ${KEPT_TERMS_PER_TENANT})
        returning pattern)
      delete from voice_session_search_counts where tenant_id = ${tenantId} and pattern in (select pattern from removed)`

  const isReady = (term: CountedTerm) =>
    sql<{ ready: boolean }>`select ready from voice_session_search_terms
      where tenant_id = ${term.tenantId} and pattern = lower(${term.pattern})`.pipe(
      Effect.map((rows) => rows[0]?.ready === true)
    )

  /** True when the term's count is kept (ready) at the end. */
  const register = (term: CountedTerm) =>
    Effect.gen(function*() {
      const claimed = yield* claim(term)
      // Registered already, or under way elsewhere: wait for it to be ready.
      if (claimed === null) return yield* until(isReady(term), WAIT_LIMIT_MS)
      if (!(yield* writersEnded(term.tenantId))) return false
      if (!(yield* complete(term, claimed))) return yield* isReady(term)
      yield* trim(term.tenantId)
      return true
    })

  /** Registrations under way in this process, one per term: later requests wait for it. */
  const registering = new Map<string, Deferred.Deferred<boolean>>()

  /**
   * Registers the term unless it is too long to keep; true when its count is kept now. Runs as
   * a daemon, so a request that gives up (interrupted) does not cancel it for the others.
   */
  const ensureRegistered = (term: CountedTerm): Effect.Effect<boolean> =>
    Effect.suspend(() => {
      if (term.pattern.length > KEPT_PATTERN_MAX) return Effect.succeed(false)
      const key = `${term.tenantId}\u0000${term.pattern}`
      const running = registering.get(key)
      if (running !== undefined) return Deferred.await(running)
      const done = Deferred.unsafeMake<boolean>(FiberId.none)
      registering.set(key, done)
      return register(term).pipe(
        Effect.catchAllCause((cause) => Effect.as(Effect.logWarning("search count not registered", cause), false)),
        Effect.flatMap((ready) => Deferred.succeed(done, ready)),
        Effect.ensuring(Effect.sync(() => registering.delete(key))),
        Effect.forkDaemon,
        Effect.zipRight(Deferred.await(done))
      )
    })

  return { kept, matching, ensureRegistered } as const
}
