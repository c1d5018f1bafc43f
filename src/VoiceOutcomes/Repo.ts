import * as SqlSchema from "@effect/sql/SqlSchema"
import * as Statement from "@effect/sql/Statement"
import { PgClient } from "@effect/sql-pg"
import { Effect, Option, Schema } from "effect"
import { orNothing, orRefused, orUnavailable } from "../Database/Errors.js"
import { makeExecute } from "../Database/HotStatement.js"
import { compactJsonb } from "../Http/JsonbText.js"
import { VoiceOutcome } from "./Api.js"
import * as Rollups from "./RollupSql.js"
import { piece } from "../Database/Piece.js"

/** A version's calls over a window (rates are null with no calls). */
export interface VersionCallRates {
  readonly agent_version_id: string
  readonly calls: number
  readonly escalation_rate: number | null
  readonly failure_rate: number | null
  readonly abandonment_rate: number | null
}

export interface OutcomeWrite {
  readonly id: string
  readonly tenantId: string
  readonly orgId: string | null
  readonly voiceSessionId: string
  readonly streamSid: string
  readonly callSid: string | null
  readonly callType: string | null
  readonly customerPhone: string | null
  readonly agentName: string | null
  readonly agentVersionId: string | null
  readonly resolution: string
  readonly billingStatus: string
  readonly billableSku: string | null
  readonly outcomeSource: string
  readonly escalated: boolean
  readonly disposition: unknown
  readonly durationSeconds: number | null
  readonly occurredAt: Date
}

/** Known only from earlier parts of the call's one-statement record (its call log row and session). */
type FromRecord = "voiceSessionId" | "resolution" | "billingStatus" | "billableSku" | "disposition"

/** An outcome as a part of the call's record: what depends on the log row is an expression over it. */
export type RecordedOutcomeWrite =
  & Omit<OutcomeWrite, FromRecord>
  & { readonly [K in FromRecord]: Statement.Fragment }

export interface OutcomeFilter {
  readonly tenantId: string
  readonly resolution: string | null
  readonly billingStatus: string | null
  readonly billableSku: string | null
  readonly callType: string | null
  readonly limit: number
  readonly offset: number
}

/** SQL for `voice_outcomes`. "Billable" means any billing status but `not_billable`. */
export class OutcomesRepo extends Effect.Service<OutcomesRepo>()("OutcomesRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient

    /** First write wins: a replayed call must not reset a billing status that has moved on. */
    const columns = piece`(id, tenant_id, org_id, voice_session_id, stream_sid, call_sid, call_type,
      customer_phone, agent_name, agent_version_id, resolution, billing_status, billable_sku, outcome_source,
      escalated, disposition, duration_seconds, occurred_at)`

    // Typed casts: the same list serves `values (...)` and `insert ... select` (a part of the call's record).
    const valueList = (o: OutcomeWrite | RecordedOutcomeWrite) => piece`
      ${o.id}::uuid, ${o.tenantId}, ${o.orgId}, ${o.voiceSessionId}::uuid, ${o.streamSid}, ${o.callSid}, ${o.callType},
      ${o.customerPhone}, ${o.agentName}, ${o.agentVersionId}::uuid, ${o.resolution}::text, ${o.billingStatus}::text,
      ${o.billableSku}::text, ${o.outcomeSource}, ${o.escalated}::boolean,
      ${Statement.isFragment(o.disposition) ? o.disposition : JSON.stringify(o.disposition)}::jsonb,
      ${o.durationSeconds}::int, ${o.occurredAt.toISOString()}::timestamptz`

    /** `insertOnce` as a part of the call's record: a row per row of `source`, `returning id`. */
    const insertOnceFrom = (o: RecordedOutcomeWrite, source: Statement.Fragment) =>
      piece`insert into voice_outcomes ${columns} select ${valueList(o)} from ${source}
          on conflict (tenant_id, stream_sid) do nothing returning id`

    const insertOnce = (o: OutcomeWrite) =>
      Effect.gen(function*() {
        const written = yield* sql<{ id: string }>`
          insert into voice_outcomes ${columns} values (${valueList(o)})
          on conflict (tenant_id, stream_sid) do nothing
          returning id`
        if (written[0] !== undefined) return written[0].id
        const existing = yield* sql<{ id: string }>`
          select id from voice_outcomes where tenant_id = ${o.tenantId} and stream_sid = ${o.streamSid}`
        return existing[0]!.id
      })

    const where = (f: OutcomeFilter) =>
      sql`where tenant_id = ${f.tenantId}
        and ${f.resolution === null ? sql`true` : sql`resolution = ${f.resolution}`}
        and ${f.billingStatus === null ? sql`true` : sql`billing_status = ${f.billingStatus}`}
        and ${f.billableSku === null ? sql`true` : sql`billable_sku = ${f.billableSku}`}
        and ${f.callType === null ? sql`true` : sql`call_type = ${f.callType}`}`

    const page = (f: OutcomeFilter) =>
      sql`select * from voice_outcomes ${where(f)} order by occurred_at desc, id limit ${f.limit} offset ${f.offset}`
        .pipe(Effect.flatMap(Schema.decodeUnknown(Schema.Array(VoiceOutcome))))

    const count = (f: OutcomeFilter) =>
      sql<{ count: number }>`select count(*)::int as count from voice_outcomes ${where(f)}`.pipe(
        Effect.map((rows) => rows[0]?.count ?? 0)
      )

    const findBy = (column: "id" | "stream_sid") =>
      SqlSchema.findOne({
        Request: Schema.Struct({ tenantId: Schema.String, key: Schema.String }),
        Result: VoiceOutcome,
        execute: ({ key, tenantId }) =>
          sql`select * from voice_outcomes where tenant_id = ${tenantId} and ${sql(column)} = ${key}`
      })
    const findById = findBy("id")
    const findByStream = findBy("stream_sid")

    // Statistics from the hourly rollups (see RollupSql.ts), written as the wire schemas' JSON
    // by PostgreSQL and passed through as text. Prepared: one shape each, whose plan (index
    // ranges of the tenant's rollup rows and of its rows at the window's edges) suits every
    // tenant and window.
    const execute = yield* makeExecute(sql)
    const statsJson = (tenantId: string, seconds: number) =>
      Effect.map(execute.prepared(Rollups.statsJson(sql, tenantId, seconds)), (rows) => compactJsonb(rows[0]!.stats))
    const seriesJson = (tenantId: string, seconds: number, bucketSeconds: number) =>
      Effect.map(execute.prepared(Rollups.seriesJson(sql, tenantId, seconds, bucketSeconds)), (rows) => compactJsonb(rows[0]!.points))

    const setBillingStatus = (tenantId: string, outcomeId: string, billingStatus: string) =>
      sql`update voice_outcomes set billing_status = ${billingStatus}, updated_at = now()
          where tenant_id = ${tenantId} and id = ${outcomeId}`

    /** Per version over the last `lookbackHours`: calls and the share escalated, failed and abandoned (governance). */
    const versionRates = (tenantId: string, versionIds: ReadonlyArray<string>, lookbackHours: number) =>
      sql<VersionCallRates>`
        select agent_version_id::text as agent_version_id, count(*)::int as calls,
          (avg(case when escalated or resolution = 'escalated' then 1.0 else 0.0 end))::float8 as escalation_rate,
          (avg(case when resolution = 'failed' then 1.0 else 0.0 end))::float8 as failure_rate,
          (avg(case when resolution = 'abandoned' then 1.0 else 0.0 end))::float8 as abandonment_rate
        from voice_outcomes
        where tenant_id = ${tenantId} and agent_version_id in ${sql.in(versionIds)}
          and occurred_at >= now() - make_interval(hours => ${lookbackHours})
        group by agent_version_id`

    return {
      versionRates: (tenantId: string, versionIds: ReadonlyArray<string>, lookbackHours: number) =>
        versionIds.length === 0 ? Effect.succeed([]) : orUnavailable(versionRates(tenantId, versionIds, lookbackHours)),
      /** A call's data (numbers from Twilio, text from the call) may hold what PostgreSQL refuses. */
      insertOnce: (o: OutcomeWrite) => orRefused(insertOnce(o)),
      insertOnceFrom,
      // Filters and keys from requests: a value a column cannot hold matches nothing.
      page: (f: OutcomeFilter) => orNothing(page(f), []),
      count: (f: OutcomeFilter) => orNothing(count(f), 0),
      findById: (tenantId: string, id: string) => orNothing(findById({ tenantId, key: id }), Option.none()),
      findByStream: (tenantId: string, streamSid: string) =>
        orNothing(findByStream({ tenantId, key: streamSid }), Option.none()),
      statsJson: (tenantId: string, seconds: number) => orUnavailable(statsJson(tenantId, seconds)),
      seriesJson: (tenantId: string, seconds: number, bucketSeconds: number) =>
        orUnavailable(seriesJson(tenantId, seconds, bucketSeconds)),
      setBillingStatus: (tenantId: string, outcomeId: string, billingStatus: string) =>
        orUnavailable(Effect.asVoid(setBillingStatus(tenantId, outcomeId, billingStatus)))
    } as const
  })
}) {}
