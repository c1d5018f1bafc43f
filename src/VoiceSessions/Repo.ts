import * as SqlSchema from "@effect/sql/SqlSchema"
import type * as Statement from "@effect/sql/Statement"
import { PgClient } from "@effect/sql-pg"
import { Effect, Option, Schema } from "effect"
import { orNothing, orRefused } from "../Database/Errors.js"
import { makeExecute } from "../Database/HotStatement.js"
import { piece } from "../Database/Piece.js"
import type { ColumnRow } from "../Http/RowJson.js"
import { VoiceSession } from "./Api.js"
import { sessionJson } from "./ListJson.js"
import { makeSessionList, type SessionFilter, type SessionListRow } from "./SessionList.js"

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

/** What an evaluation links to. */
export const SessionLinks = Schema.Struct({
  id: Schema.String,
  stream_id: Schema.String,
  call_log_id: Schema.NullOr(Schema.String),
  agent_version_id: Schema.NullOr(Schema.String)
})

export type { SessionFilter, SessionListRow } from "./SessionList.js"

/** A session read for its detail: the columns its JSON is written from (ListJson.ts). */
export type SessionDetailRow = ColumnRow<typeof VoiceSession.fields>

/** SQL for `voice_sessions`. */
export class SessionsRepo extends Effect.Service<SessionsRepo>()("SessionsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    // The list page (with its count) is the hottest read: run without the per-statement wrapping.
    const execute = yield* makeExecute(sql)
    const sessionList = makeSessionList(sql, execute)

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

    /** `upsertFinished` as a part of the call's record: a row per row of `source` (the call log), `returning id`. */
    const upsertFinishedFrom = (s: FinishedSessionWrite, source: Statement.Fragment) =>
      piece`insert into voice_sessions ${columns} select ${valueList(s)} from ${source} ${finishedOnConflict} returning id`

    /** The session's id: the one `upserted` wrote, else the one finished before (a replay). */
    const idFrom = (tenantId: string, streamId: string, upserted: Statement.Fragment, source: Statement.Fragment) =>
      piece`select id from ${upserted}
          union all
          select v.id from voice_sessions v, ${source}
          where v.tenant_id = ${tenantId} and v.stream_id = ${streamId} and not exists (select 1 from ${upserted})`

    // Its own executor, so the two detail reads are always prepared (list pages take up to eight names).
    const executeDetail = yield* makeExecute(sql)
    /** A session's columns as its JSON is written (ListJson.ts); one plan suits every key (a unique index): prepared. */
    const findBy = (column: "id" | "stream_id") => (tenantId: string, key: string) =>
      Effect.map(
        executeDetail.prepared(sql<SessionDetailRow>`select ${sql.literal(sessionJson.selectList)} from voice_sessions
          where tenant_id = ${tenantId} and ${sql(column)} = ${key}`),
        (rows): SessionDetailRow | undefined => rows[0]
      )
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
      list: (f: SessionFilter) => orNothing(sessionList.list(f), { count: 0, sessions: [] as ReadonlyArray<SessionListRow> }),
      findById: (tenantId: string, id: string) => orNothing(findById(tenantId, id), undefined),
      findByStream: (tenantId: string, streamId: string) => orNothing(findByStream(tenantId, streamId), undefined),
      linksById: (tenantId: string, id: string) => orNothing(linksById({ tenantId, id }), Option.none()),
      links: (input: { tenantId: string; streamId: string | null; callSid: string | null }) =>
        orNothing(links(input), Option.none())
    } as const
  })
}) {}
