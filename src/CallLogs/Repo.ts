import type { Statement } from "@effect/sql"
import { PgClient } from "@effect/sql-pg"
import { Effect, Schema } from "effect"
import { orNothing } from "../Database/Errors.js"
import { makeExecute, type RowValues } from "../Database/HotStatement.js"
import { pageBounds, preparable } from "../Database/PageBounds.js"
import { isGram, likePattern } from "../Database/SearchTerms.js"
import { summaryJson } from "./ListJson.js"
import { makeTrigramSample, searchPlan } from "./TranscriptTrigrams.js"
import type { CallDirection } from "./CallKey.js"
import { type CallLogDetailRow, detailJson } from "./DetailJson.js"
import { TranscriptEntry } from "./Schemas.js"

/** Validated list filters (see CallLogs.list). */
export interface ListQuery {
  readonly tenantId: string
  readonly status?: string
  readonly outcome?: string
  readonly fromNumber?: string
  readonly toNumber?: string
  /** The stored directions the `direction` filter matches (WireDirection.ts). */
  readonly directions?: ReadonlyArray<CallDirection>
  readonly escalated?: boolean
  readonly fromDate?: Date
  readonly toDate?: Date
  readonly minDuration?: number
  readonly maxDuration?: number
  readonly transcriptSearch?: string
  readonly callSid?: string
  /** Keyset position; exact because every writer stores `started_at` from a JS Date (millisecond precision). */
  readonly after?: { readonly startedAt: string; readonly id: string }
  readonly offset: number
  readonly limit: number
}

/**
 * Calls read newest first per row of the page before a transcript search goes to the trigram
 * index: a term in 3.3% of the calls or more fills the page from this window (bench/RESULTS.md).
 */
const RECENT_WINDOW_PER_ROW = 30

/**
 * A list row: the item's values in its select list's order (CallLogs/ListJson.ts), as an array
 * (Database/HotStatement.ts `values`); `started_at` and `id` are also the keyset position,
 * `started_at` PostgreSQL's text of the timestamp (Http/RowJson.ts `timestamp`).
 */
export type CallLogListRow = RowValues

/** Reads of `call_logs`, always scoped to one tenant. */
export class CallLogsRepo extends Effect.Service<CallLogsRepo>()("CallLogsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    // The list page and the detail are the hottest reads: run without the per-statement wrapping.
    const execute = yield* makeExecute(sql)
    // Its own executor, so the detail is always one of its prepared names (list pages take up to eight).
    const executeDetail = yield* makeExecute(sql)
    const trigramSample = yield* makeTrigramSample(sql)

    const list = (q: ListQuery) => {
      const where = [
        sql`tenant_id = ${q.tenantId}`,
        ...(q.status === undefined ? [] : [sql`status = ${q.status}`]),
        ...(q.outcome === undefined ? [] : [sql`outcome = ${q.outcome}`]),
        ...(q.fromNumber === undefined ? [] : [sql`from_number = ${q.fromNumber}`]),
        ...(q.toNumber === undefined ? [] : [sql`to_number = ${q.toNumber}`]),
        ...(q.directions === undefined ? [] : [sql`direction in ${sql.in(q.directions)}`]),
        ...(q.escalated === undefined ? [] : [sql`escalated = ${q.escalated}`]),
        ...(q.fromDate === undefined ? [] : [sql`started_at >= ${q.fromDate}`]),
        ...(q.toDate === undefined ? [] : [sql`started_at <= ${q.toDate}`]),
        ...(q.minDuration === undefined ? [] : [sql`duration_seconds >= ${q.minDuration}`]),
        ...(q.maxDuration === undefined ? [] : [sql`duration_seconds <= ${q.maxDuration}`]),
        ...(q.callSid === undefined ? [] : [sql`call_sid = ${q.callSid}`]),
        ...(q.after === undefined ? [] : [sql`(started_at, id) < (${q.after.startedAt}::timestamptz, ${q.after.id}::uuid)`])
      ]
      const offset = q.after === undefined ? q.offset : 0
      // The tenant's unfiltered first page (or keyset page) walks its newest-first index for any
      // values: one plan suits it, so it is prepared (Database/HotStatement.ts `prepared`).
      const prepared = q.transcriptSearch === undefined && where.length === (q.after === undefined ? 1 : 2) &&
        preparable(q.limit, offset)
      const page = (from: Statement.Fragment, filter: Statement.Fragment) =>
        (prepared ? execute.preparedValues : execute.values)(sql`select ${sql.literal(summaryJson.selectList)} from ${from} where ${filter}
            order by call_logs.started_at desc, call_logs.id desc
            ${pageBounds(sql, q.limit, offset, prepared)}`)
      // A filter value the column cannot hold (text with NUL) matches no call.
      if (q.transcriptSearch === undefined) return orNothing(page(sql`call_logs`, sql.and(where)), [])
      const term = q.transcriptSearch
      const matches = sql`transcript_text ilike ${likePattern(term)}`
      // The planner cannot tell a common term from a middling one (a term in 0.4% of the calls
      // walked 32,000 of them newest first, ~150 ms), nor a rare phrase of common words from a
      // rare word (TranscriptTrigrams.ts). So: first the newest calls only, a window bounded by
      // the page, which answers a common term; when the window holds fewer matches than the
      // page, every match, found through an index. A term whose trigrams are too rare to fill
      // the window skips it (searchPlan); so does a phrase of common words whose word pairs are
      // rare (migration 0035), found through those. A term of one or two characters has no trigram: its
      // gram index (migration 0031) finds every match exactly, where the trigram index would
      // read the whole tenant.
      const window = RECENT_WINDOW_PER_ROW * (q.limit + offset)
      const recentPage = page(
        sql`(select * from call_logs where ${sql.and(where)}
          order by started_at desc, id desc limit ${window}) call_logs`,
        matches
      )
      // Every match, then the page of them: the CTE is planned without the order, so the
      // planner cannot walk the newest-first index instead of the trigram one.
      const everyMatch = (found: Statement.Fragment) =>
        execute.values(sql`with matches as materialized (${found})
          select ${sql.literal(summaryJson.selectList)} from call_logs
          where tenant_id = ${q.tenantId} and id in (
            select id from matches order by started_at desc, id desc limit ${q.limit} offset ${offset})
          order by call_logs.started_at desc, call_logs.id desc`)
      const indexed = (condition: Statement.Fragment) => sql`select id, started_at from call_logs where ${sql.and([...where, condition])}`
      if (isGram(term)) {
        const grams = indexed(sql`${matches} and search_grams(lower(transcript_text)) @> array[lower(${term})]`)
        return orNothing(Effect.flatMap(recentPage, (rows) => rows.length === q.limit ? Effect.succeed(rows) : everyMatch(grams)), [])
      }
      return orNothing(
        Effect.flatMap(trigramSample, (sample) => {
          const plan = searchPlan(sample, term, window, RECENT_WINDOW_PER_ROW)
          // A narrower condition alone meets an index; the whole term is checked after the
          // fence (offset 0), where the planner cannot add it to the index scan.
          const fenced = (narrower: Statement.Fragment) =>
            everyMatch(sql`select id, started_at from (
                select id, started_at, transcript_text from call_logs where ${sql.and([...where, narrower])} offset 0) candidates
              where ${matches}`)
          const every = plan.pairs !== undefined
            ? fenced(sql`search_word_pairs(lower(transcript_text)) @> ${plan.pairs}::text[]`)
            : plan._tag === "EveryMatch" && plan.narrowedTo !== undefined
            ? fenced(sql`transcript_text ilike ${likePattern(plan.narrowedTo)}`)
            : everyMatch(indexed(matches))
          if (plan._tag === "EveryMatch") return every
          return Effect.flatMap(recentPage, (rows) => rows.length === q.limit ? Effect.succeed(rows) : every)
        }),
        []
      )
    }

    /**
     * The call's columns as its detail is written (DetailJson.ts); undefined also for an id that
     * is not a UUID: it cannot name a call. One plan suits every id (the primary key): prepared.
     */
    const find = (tenantId: string, id: string) =>
      orNothing(
        Effect.map(
          executeDetail.prepared(sql<CallLogDetailRow>`select ${sql.literal(detailJson.selectList)} from call_logs
            where tenant_id = ${tenantId} and id = ${id}`),
          (rows): CallLogDetailRow | undefined => rows[0]
        ),
        undefined
      )

    /** The call log of a Twilio call or media stream of this tenant (to act on a live call). */
    const callSidFor = (tenantId: string, sid: string) =>
      orNothing(
        sql<{ call_sid: string }>`select call_sid from call_logs
          where tenant_id = ${tenantId} and (call_sid = ${sid} or stream_sid = ${sid}) and call_sid is not null
          limit 1`.pipe(Effect.map((rows) => rows[0]?.call_sid)),
        undefined
      )

    /** The recorded transcript of a call or stream of this tenant (undefined: no such call). */
    const transcriptFor = (tenantId: string, sid: string) =>
      orNothing(
        sql<{ transcript: unknown }>`select transcript from call_logs
          where tenant_id = ${tenantId} and (call_sid = ${sid} or stream_sid = ${sid} or id::text = ${sid})
          order by updated_at desc limit 1`.pipe(
          Effect.flatMap((rows) =>
            rows[0] === undefined
              ? Effect.succeed(undefined)
              : Schema.decodeUnknown(Schema.Array(TranscriptEntry))(rows[0].transcript ?? [])
          )
        ),
        undefined
      )

    return { list, find, callSidFor, transcriptFor } as const
  })
}) {}
