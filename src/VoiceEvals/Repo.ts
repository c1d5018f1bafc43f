import * as SqlSchema from "@effect/sql/SqlSchema"
import type * as Statement from "@effect/sql/Statement"
import { PgClient } from "@effect/sql-pg"
import { Effect, Option, Schema } from "effect"
import { orNothing, orRefused, orUnavailable } from "../Database/Errors.js"
import { makeExecute } from "../Database/HotStatement.js"
import { jsonObject } from "../Database/JsonObject.js"
import { compactJsonb } from "../Http/JsonbText.js"
import { VoiceSessionEval, VoiceSessionEvalStats } from "./Api.js"

/** An evaluation at or above this score counts as high quality (rates in stats and governance). */
/** Also in migration 0010 (voice_session_eval_hourly.high_quality): change both together. */
export const HIGH_QUALITY_SCORE = 0.8

export interface EvalWrite {
  readonly id: string
  readonly tenantId: string
  readonly voiceSessionId: string
  readonly streamId: string
  readonly callLogId: string | null
  readonly agentVersionId: string | null
  readonly agentKey: string | null
  readonly agentName: string | null
  readonly score: number
  readonly tags: ReadonlyArray<string>
  readonly rubric: unknown
  readonly notes: string | null
  readonly source: string | null
  readonly metadata: unknown
}

/** The post-call analysis's evaluation: the session's links and its version's agent are read by the statement. */
export interface AutoEvalWrite {
  readonly id: string
  readonly tenantId: string
  readonly voiceSessionId: string
  readonly score: number
  readonly tags: ReadonlyArray<string>
  readonly rubric: unknown
  readonly notes: string | null
  readonly metadata: unknown
}

/** What `autoEvalFrom` returns of the evaluation it wrote (what `voice.session.evaluated` names). */
export interface AutoEvalWritten {
  readonly id: string
  readonly stream_id: string | null
  readonly call_log_id: string | null
  readonly agent_version_id: string | null
  readonly score: number
  readonly tags: ReadonlyArray<string>
  readonly source: string | null
}

export interface EvalFilter {
  readonly tenantId: string
  readonly minScore: number | null
  readonly maxScore: number | null
  readonly tag: string | null
  readonly limit: number
  readonly offset: number
}

/** Per-version aggregates over a look-back window (governance). */
export const VersionEvalStats = Schema.Struct({
  agent_version_id: Schema.String,
  eval_count: Schema.Number,
  avg_score: Schema.NullOr(Schema.Number),
  high_quality_rate: Schema.NullOr(Schema.Number),
  last_eval_at: Schema.NullOr(Schema.String)
})
export type VersionEvalStats = typeof VersionEvalStats.Type

/** Automatic and manual evaluations of a version, apart (governance compares each with the baseline's). */
export interface VersionScoresBySource {
  readonly agent_version_id: string
  readonly auto_evals: number
  readonly auto_avg_score: number | null
  readonly manual_evals: number
  readonly manual_avg_score: number | null
}

const evalSelect = `id, tenant_id, stream_id as session_id, voice_session_id, stream_id, call_log_id, agent_version_id,
  agent_key, agent_name, score, tags, rubric, notes, source, metadata, created_at, updated_at`

/**
 * A tenant's evaluation totals: the hourly rollup's all-time row (migration 0010), the last
 * 24h from its hours plus the first partial hour from the table. One row, the wire names.
 */
export const evalStatsRow = (sql: PgClient.PgClient, tenantId: string) =>
  sql`with b as (select now() - interval '24 hours' as since, ssv_hour_ceil(now() - interval '24 hours') as hour),
      t as (select coalesce(sum(n), 0) as n, sum(score_sum) as score_sum, sum(high_quality) as high_quality
        from voice_session_eval_hourly where tenant_id = ${tenantId} and hour = '-infinity')
    select t.n::int as total_evals,
      ((select coalesce(sum(h.n), 0) from voice_session_eval_hourly h, b where h.tenant_id = ${tenantId} and h.hour >= b.hour)
        + (select count(*) from voice_session_evals e, b
           where e.tenant_id = ${tenantId} and e.created_at >= b.since and e.created_at < b.hour))::int as evals_last_24h,
      (t.score_sum / nullif(t.n, 0))::float8 as avg_score,
      (t.high_quality::numeric / nullif(t.n, 0))::float8 as high_quality_rate
    from t`

const statsObject = jsonObject(VoiceSessionEvalStats.fields, {
  avg_score: "s.avg_score",
  evals_last_24h: "s.evals_last_24h",
  high_quality_rate: "s.high_quality_rate",
  total_evals: "s.total_evals"
})

/** SQL for `voice_session_evals`: one evaluation per session (recording again replaces it). */
export class EvalsRepo extends Effect.Service<EvalsRepo>()("EvalsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const columns = sql.literal(evalSelect)

    const write = (e: EvalWrite) =>
      sql`insert into voice_session_evals (id, tenant_id, voice_session_id, stream_id, call_log_id, agent_version_id,
            agent_key, agent_name, score, tags, rubric, notes, source, metadata)
          values (${e.id}, ${e.tenantId}, ${e.voiceSessionId}, ${e.streamId}, ${e.callLogId}, ${e.agentVersionId},
            ${e.agentKey}, ${e.agentName}, ${e.score}, ${e.tags}::text[], ${JSON.stringify(e.rubric)}::jsonb, ${e.notes},
            ${e.source}, ${JSON.stringify(e.metadata)}::jsonb)
          on conflict (tenant_id, voice_session_id) do update set
            call_log_id = excluded.call_log_id, agent_version_id = excluded.agent_version_id,
            agent_key = excluded.agent_key, agent_name = excluded.agent_name, score = excluded.score,
            tags = excluded.tags, rubric = excluded.rubric, notes = excluded.notes, source = excluded.source,
            metadata = excluded.metadata, updated_at = now()
          returning ${columns}`.pipe(
        Effect.flatMap(Schema.decodeUnknown(Schema.Array(VoiceSessionEval))),
        Effect.map((rows) => Option.fromNullable(rows[0]))
      )

    /**
     * The automatic evaluation (`source` 'auto') as a part of the post-call analysis's one-statement
     * write, when `guard` selects a row: an upsert kept off a person's evaluation, with the session's stream, call log and
     * version and the version's agent (what VoiceSessionEvals.findSession and Agents.version read
     * before) joined in. A non-automatic evaluation is never replaced, even one committed while this
     * runs (the conflict branch re-checks the row it locked). Returns the row it wrote, if any.
     */
    const autoEvalFrom = (e: AutoEvalWrite, guard: Statement.Fragment) =>
      sql<AutoEvalWritten>`insert into voice_session_evals (id, tenant_id, voice_session_id, stream_id, call_log_id, agent_version_id,
            agent_key, agent_name, score, tags, rubric, notes, source, metadata)
          select ${e.id}::uuid, s.tenant_id, s.id, s.stream_id, s.call_log_id, s.agent_version_id, a.agent_key, a.name,
            ${e.score}::float8, ${e.tags}::text[], ${JSON.stringify(e.rubric)}::jsonb, ${e.notes}::text, 'auto',
            ${JSON.stringify(e.metadata)}::jsonb
          from voice_sessions s
            left join (agent_versions v join agents a on a.id = v.agent_id)
              on v.tenant_id = s.tenant_id and v.id = s.agent_version_id
          where s.tenant_id = ${e.tenantId} and s.id = ${e.voiceSessionId}::uuid and exists (${guard})
          on conflict (tenant_id, voice_session_id) do update set
            call_log_id = excluded.call_log_id, agent_version_id = excluded.agent_version_id,
            agent_key = excluded.agent_key, agent_name = excluded.agent_name, score = excluded.score,
            tags = excluded.tags, rubric = excluded.rubric, notes = excluded.notes, source = excluded.source,
            metadata = excluded.metadata, updated_at = now()
          where voice_session_evals.source = 'auto'
          returning id, stream_id, call_log_id, agent_version_id, score, tags, source`

    const upsert = (e: EvalWrite) =>
      Effect.flatMap(write(e), Option.match({ onNone: () => Effect.dieMessage("an upsert returned no row"), onSome: Effect.succeed }))

    const bySession = SqlSchema.findOne({
      Request: Schema.Struct({ tenantId: Schema.String, voiceSessionId: Schema.String }),
      Result: VoiceSessionEval,
      execute: ({ tenantId, voiceSessionId }) =>
        sql`select ${columns} from voice_session_evals
            where tenant_id = ${tenantId} and voice_session_id = ${voiceSessionId}`
    })

    const where = (f: EvalFilter) =>
      sql`where tenant_id = ${f.tenantId}
        and ${f.minScore === null ? sql`true` : sql`score >= ${f.minScore}`}
        and ${f.maxScore === null ? sql`true` : sql`score <= ${f.maxScore}`}
        and ${f.tag === null ? sql`true` : sql`${f.tag} = any(tags)`}`

    const page = (f: EvalFilter) =>
      sql`select ${columns} from voice_session_evals ${where(f)}
          order by created_at desc, id limit ${f.limit} offset ${f.offset}`.pipe(
        Effect.flatMap(Schema.decodeUnknown(Schema.Array(VoiceSessionEval)))
      )

    const count = (f: EvalFilter) =>
      sql<{ count: number }>`select count(*)::int as count from voice_session_evals ${where(f)}`.pipe(
        Effect.map((rows) => rows[0]?.count ?? 0)
      )

    // Prepared: one shape, one plan for every tenant. PostgreSQL writes the wire schema's JSON.
    const execute = yield* makeExecute(sql)
    const stats = (tenantId: string) =>
      Effect.map(execute.prepared(sql<{ readonly stats: string }>`
        select ${sql.literal(statsObject)}::text as stats from (${evalStatsRow(sql, tenantId)}) s`), (rows) => compactJsonb(rows[0]!.stats))

    const versionStats = SqlSchema.findAll({
      Request: Schema.Struct({
        tenantId: Schema.String,
        versionIds: Schema.Array(Schema.String),
        lookbackHours: Schema.Number
      }),
      Result: VersionEvalStats,
      execute: ({ lookbackHours, tenantId, versionIds }) =>
        sql`select agent_version_id::text as agent_version_id, count(*)::int as eval_count,
              avg(score)::float8 as avg_score,
              (avg(case when score >= ${HIGH_QUALITY_SCORE} then 1.0 else 0.0 end))::float8 as high_quality_rate,
              max(created_at) as last_eval_at
            from voice_session_evals
            where tenant_id = ${tenantId} and agent_version_id in ${sql.in(versionIds)}
              and created_at >= now() - make_interval(hours => ${lookbackHours})
            group by agent_version_id`
    })

    /** Per version over the window: automatic evaluations and a person's (any other source), counted and averaged apart. */
    const versionScoresBySource = (tenantId: string, versionIds: ReadonlyArray<string>, lookbackHours: number) =>
      sql<VersionScoresBySource>`
        select agent_version_id::text as agent_version_id,
          count(*) filter (where source = 'auto')::int as auto_evals,
          (avg(score) filter (where source = 'auto'))::float8 as auto_avg_score,
          count(*) filter (where source is distinct from 'auto')::int as manual_evals,
          (avg(score) filter (where source is distinct from 'auto'))::float8 as manual_avg_score
        from voice_session_evals
        where tenant_id = ${tenantId} and agent_version_id in ${sql.in(versionIds)}
          and created_at >= now() - make_interval(hours => ${lookbackHours})
        group by agent_version_id`

    return {
      versionScoresBySource: (tenantId: string, versionIds: ReadonlyArray<string>, lookbackHours: number) =>
        versionIds.length === 0 ? Effect.succeed([]) : orUnavailable(versionScoresBySource(tenantId, versionIds, lookbackHours)),
      /** Tags, notes, rubric and metadata come from the request. */
      upsert: (e: EvalWrite) => orRefused(upsert(e)),
      /** The post-call analysis's part; see above. */
      autoEvalFrom,
      bySession: (tenantId: string, voiceSessionId: string) => orUnavailable(bySession({ tenantId, voiceSessionId })),
      /** A tag filter PostgreSQL cannot compare (NUL) matches nothing. */
      page: (f: EvalFilter) => orNothing(page(f), []),
      count: (f: EvalFilter) => orNothing(count(f), 0),
      /** VoiceSessionEvalStats as JSON text. */
      stats: (tenantId: string) => orUnavailable(stats(tenantId)),
      versionStats: (tenantId: string, versionIds: ReadonlyArray<string>, lookbackHours: number) =>
        versionIds.length === 0
          ? Effect.succeed([])
          : orUnavailable(versionStats({ tenantId, versionIds, lookbackHours }))
    } as const
  })
}) {}
