import * as SqlSchema from "@effect/sql/SqlSchema"
import type * as Statement from "@effect/sql/Statement"
import { PgClient } from "@effect/sql-pg"
import { Effect, Option, Schema } from "effect"
import { orNothing, orRefused } from "../Database/Errors.js"
import { makeExecute } from "../Database/HotStatement.js"
import { pageBounds, preparable } from "../Database/PageBounds.js"
import { piece } from "../Database/Piece.js"
import { isGram, likePattern } from "../Database/SearchTerms.js"
import type { ColumnRow } from "../Http/RowJson.js"
import { VoiceSession } from "./Api.js"
import { sessionJson } from "./ListJson.js"
import { type CountedTerm, KEPT_COUNT_FROM, makeSearchCounts } from "./SearchCounts.js"
import { makeSearchPage } from "./SearchPage.js"

/** Everything a new session row holds; the wire-only defaults are applied by the caller. */
export interface SessionWrite {
  readonly id: string
  readonly tenantId: string
  readonly orgId: string | null
  readonly streamId: string
  readonly callSid: string | null
  readonly callLogId: string | null
  readonly agentVersionId: string | null
  readonly agentName: string | null
  readonly callType: string | null
  readonly customerPhone: string | null
  readonly model: string | null
  readonly voice: string | null
  readonly status: string
  readonly transcript: unknown
  readonly functionCalls: unknown
  readonly metadata: unknown
  readonly tags: ReadonlyArray<string>
  readonly turnCount: number
  readonly summary: string | null
  readonly sentiment: string | null
  readonly durationMs: number | null
  readonly escalated: boolean
  readonly startedAt: Date
  readonly endedAt: Date | null
}

/** Read from an earlier part of the call's one-statement record (the call log row), not given. */
type FromCallLog = "status" | "summary" | "callLogId"

/** A finished session as a part of the call's record: its status, summary and call log come from the log row. */
export type FinishedSessionWrite =
  & Omit<SessionWrite, FromCallLog>
  & { readonly [K in FromCallLog]: Statement.Fragment }

export interface SessionFilter {
  readonly tenantId: string
  readonly status: string | null
  readonly search: string | null
  readonly startedAfter: Date | null
  readonly ascending: boolean
  readonly limit: number
  readonly offset: number
}

/** What an evaluation links to. */
export const SessionLinks = Schema.Struct({
  id: Schema.String,
  stream_id: Schema.String,
  call_log_id: Schema.NullOr(Schema.String),
  agent_version_id: Schema.NullOr(Schema.String)
})

/** A list row: one session's columns (VoiceSessions/ListJson.ts) and the count of all matches. */
export interface SessionListRow extends ColumnRow<typeof VoiceSession.fields> {
  readonly count: number
}

/** Separates the searched fields in `voice_session_search.search_text` (migrations 0026, 0029). */
const FIELD_SEPARATOR = "\uFFFF"

/** SQL for `voice_sessions`. */
export class SessionsRepo extends Effect.Service<SessionsRepo>()("SessionsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    // The list page (with its count) is the hottest read: run without the per-statement wrapping.
    const execute = yield* makeExecute(sql)
    const searchCounts = makeSearchCounts(sql)
    const searchPage = makeSearchPage(sql)

    // Typed casts: the same list serves `values (...)` and `insert ... select` (a part of the call's record).
    const valueList = (s: SessionWrite | FinishedSessionWrite) => piece`
      ${s.id}::uuid, ${s.tenantId}, ${s.orgId}, ${s.streamId}, ${s.callSid}, ${s.callLogId}::uuid, ${s.agentVersionId}::uuid,
      ${s.agentName}, ${s.callType}, ${s.customerPhone}, ${s.model}, ${s.voice}, ${s.status}::text,
      ${JSON.stringify(s.transcript)}::jsonb, ${JSON.stringify(s.functionCalls)}::jsonb, ${JSON.stringify(s.metadata)}::jsonb, ${s.tags}::text[],
      ${s.turnCount}::int, ${s.summary}::text, ${s.sentiment}::text, ${s.durationMs}::bigint, ${s.escalated}::boolean,
      ${s.startedAt.toISOString()}::timestamptz, ${s.endedAt === null ? null : s.endedAt.toISOString()}::timestamptz`
    const values = (s: SessionWrite) => sql`(${valueList(s)})`

    const columns = piece`(id, tenant_id, org_id, stream_id, call_sid, call_log_id, agent_version_id, agent_name,
      call_type, customer_phone, model, voice, status, transcript, function_calls, metadata, tags, turn_count,
      summary, sentiment, duration_ms, escalated, started_at, ended_at)`

    /** None when the tenant already has a session for this stream. */
    const insert = (s: SessionWrite) =>
      sql`insert into voice_sessions ${columns} values ${values(s)}
          on conflict (tenant_id, stream_id) do nothing returning *`.pipe(
        Effect.flatMap(Schema.decodeUnknown(Schema.Array(VoiceSession))),
        Effect.map((rows) => Option.fromNullable(rows[0]))
      )

    /**
     * A finished call's session: inserted, or completing a session created earlier as
     * "active"; a session already finished is left as it is (replays are no-ops).
     */
    const finishedOnConflict = piece`on conflict (tenant_id, stream_id) do update set
            org_id = coalesce(excluded.org_id, voice_sessions.org_id),
            call_sid = coalesce(excluded.call_sid, voice_sessions.call_sid),
            call_log_id = coalesce(excluded.call_log_id, voice_sessions.call_log_id),
            agent_version_id = coalesce(excluded.agent_version_id, voice_sessions.agent_version_id),
            agent_name = coalesce(excluded.agent_name, voice_sessions.agent_name),
            call_type = excluded.call_type, customer_phone = excluded.customer_phone,
            model = excluded.model, voice = excluded.voice, status = excluded.status,
            transcript = excluded.transcript, function_calls = excluded.function_calls,
            turn_count = excluded.turn_count, summary = excluded.summary, duration_ms = excluded.duration_ms,
            escalated = excluded.escalated, started_at = excluded.started_at, ended_at = excluded.ended_at,
            updated_at = now()
          where voice_sessions.status = 'active'`

    const upsertFinished = (s: SessionWrite) =>
      Effect.gen(function*() {
        const written = yield* sql<{ id: string }>`
          insert into voice_sessions ${columns} values ${values(s)} ${finishedOnConflict} returning id`
        if (written[0] !== undefined) return written[0].id
        const existing = yield* sql<{ id: string }>`
          select id from voice_sessions where tenant_id = ${s.tenantId} and stream_id = ${s.streamId}`
        return existing[0]!.id
      })

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

    /** `upsertFinished` as a part of the call's record: a row per row of `source` (the call log), `returning id`. */
    const upsertFinishedFrom = (s: FinishedSessionWrite, source: Statement.Fragment) =>
      piece`insert into voice_sessions ${columns} select ${valueList(s)} from ${source} ${finishedOnConflict} returning id`

    /** The session's id: the one `upserted` wrote, else the one finished before (a replay). */
    const idFrom = (tenantId: string, streamId: string, upserted: Statement.Fragment, source: Statement.Fragment) =>
      piece`select id from ${upserted}
          union all
          select v.id from voice_sessions v, ${source}
          where v.tenant_id = ${tenantId} and v.stream_id = ${streamId} and not exists (select 1 from ${upserted})`

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
      return (isPrepared(f) ? execute.prepared : execute)(sql<SessionListRow & { readonly kept: boolean }>`${cte.with} select (${count(f)})::int as count, ${cte.kept} as kept,
          ${sql.literal(sessionJson.selectList)}
          from (${pageRows(f)}) page order by page.started_at ${direction}, page.id`).pipe(
        Effect.flatMap((rows) =>
          rows.length > 0
            ? Effect.succeed({ count: rows[0]!.count, kept: rows[0]!.kept, sessions: rows })
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

    const findBy = (column: "id" | "stream_id") =>
      SqlSchema.findOne({
        Request: Schema.Struct({ tenantId: Schema.String, key: Schema.String }),
        Result: VoiceSession,
        execute: ({ key, tenantId }) => sql`select * from voice_sessions where tenant_id = ${tenantId} and ${sql(column)} = ${key}`
      })
    const findById = findBy("id")
    const findByStream = findBy("stream_id")

    /** The session an evaluation names by its id. */
    const linksById = SqlSchema.findOne({
      Request: Schema.Struct({ tenantId: Schema.String, id: Schema.String }),
      Result: SessionLinks,
      execute: ({ id, tenantId }) =>
        sql`select id, stream_id, call_log_id, agent_version_id from voice_sessions
            where tenant_id = ${tenantId} and id = ${id}`
    })

    /** The session an evaluation names by stream id or call SID, newest first. */
    const links = SqlSchema.findOne({
      Request: Schema.Struct({
        tenantId: Schema.String,
        streamId: Schema.NullOr(Schema.String),
        callSid: Schema.NullOr(Schema.String)
      }),
      Result: SessionLinks,
      execute: ({ callSid, streamId, tenantId }) =>
        sql`select id, stream_id, call_log_id, agent_version_id from voice_sessions
            where tenant_id = ${tenantId} and (
              ${streamId === null ? sql`false` : sql`stream_id = ${streamId}`}
              or ${callSid === null ? sql`false` : sql`call_sid = ${callSid}`})
            order by started_at desc limit 1`
    })

    // Keys and filters come from requests: a value a column cannot hold (a non-UUID id,
    // text with NUL) matches nothing; a written one PostgreSQL refuses is the caller's 400.
    return {
      insert: (s: SessionWrite) => orRefused(insert(s)),
      upsertFinished: (s: SessionWrite) => orRefused(upsertFinished(s)),
      upsertFinishedFrom,
      idFrom,
      /** The matching sessions' count and one page of them (columns as ListJson.ts writes them). */
      list: (f: SessionFilter) => orNothing(list(f), { count: 0, sessions: [] as ReadonlyArray<SessionListRow> }),
      findById: (tenantId: string, id: string) => orNothing(findById({ tenantId, key: id }), Option.none()),
      findByStream: (tenantId: string, streamId: string) =>
        orNothing(findByStream({ tenantId, key: streamId }), Option.none()),
      linksById: (tenantId: string, id: string) => orNothing(linksById({ tenantId, id }), Option.none()),
      links: (input: { tenantId: string; streamId: string | null; callSid: string | null }) =>
        orNothing(links(input), Option.none())
    } as const
  })
}) {}
