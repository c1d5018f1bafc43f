import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { parseSpan } from "../../src/VoiceOutcomes/Windows.js"

/** Full scans of the source tables: the statistics as they were computed before the rollups. */

const seconds = (text: string) => {
  const span = parseSpan("window", text)
  if (span._tag === "Left") throw new Error(span.left)
  return span.right.seconds
}

export const callStats = (tenantId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<Record<string, number | null>>`select count(*) as total_calls,
        count(*) filter (where status = 'completed') as completed_calls,
        count(*) filter (where escalated) as escalated_calls,
        count(*) filter (where status = 'failed') as failed_calls,
        count(*) filter (where outcome = 'answered') as answered_calls,
        count(*) filter (where outcome = 'voicemail') as voicemail_calls,
        count(*) filter (where outcome = 'no_answer') as no_answer_calls,
        count(*) filter (where outcome = 'busy') as busy_calls,
        count(*) filter (where outcome = 'failed') as failed_outcome_calls,
        count(*) filter (where outcome is not null) as outcome_calls,
        count(*) filter (where started_at >= now() - interval '24 hours') as calls_last_24h,
        avg(duration_seconds)::float8 as avg_duration_seconds
      from call_logs where tenant_id = ${tenantId}`.pipe(
      Effect.map(([{ outcome_calls, ...row }]) => ({
        ...row,
        answer_rate: outcome_calls === 0 ? null : Number(row.answered_calls) / Number(outcome_calls)
      }))
    ))

export const outcomeStats = (tenantId: string, window: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.gen(function*() {
      const since = sql`tenant_id = ${tenantId} and occurred_at >= now() - make_interval(secs => ${seconds(window)})`
      const [totals] = yield* sql`select count(*)::int as total,
          count(*) filter (where billing_status <> 'not_billable')::int as billable,
          count(*) filter (where billing_status = 'not_billable')::int as not_billable,
          count(*) filter (where billing_status = 'pending_emit')::int as pending_emit,
          count(*) filter (where billing_status = 'emitted')::int as emitted,
          count(*) filter (where billing_status in ('failed', 'failed_billing'))::int as failed_billing,
          count(*) filter (where escalated)::int as escalated,
          avg(duration_seconds)::float8 as avg_duration_seconds
        from voice_outcomes where ${since}`
      const mix = (column: string) =>
        sql`select ${sql(column)} as name, count(*)::int as count from voice_outcomes
            where ${since} and ${sql(column)} is not null group by 1 order by 2 desc, 1`
      return {
        ...totals,
        resolution_mix: yield* mix("resolution"),
        billing_status_mix: yield* mix("billing_status"),
        sku_mix: yield* mix("billable_sku"),
        risk_mix: yield* mix("risk_level")
      }
    }))

export const outcomeSeries = (tenantId: string, window: string, bucket: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const s = seconds(window)
    const b = seconds(bucket)
    return sql`with bounds as (
        select to_timestamp(floor(extract(epoch from now() - make_interval(secs => ${s})) / ${b}) * ${b}) as first_bucket,
               now() - make_interval(secs => ${s}) as since),
      buckets as (select generate_series(first_bucket, now(), make_interval(secs => ${b})) as bucket_start from bounds)
      select b.bucket_start, count(o.id)::int as total,
        count(o.id) filter (where o.billing_status <> 'not_billable')::int as billable,
        count(o.id) filter (where o.escalated)::int as escalated,
        count(o.id) filter (where o.billing_status = 'pending_emit')::int as pending_emit,
        avg(o.duration_seconds)::float8 as avg_duration_seconds
      from buckets b cross join bounds
      left join voice_outcomes o on o.tenant_id = ${tenantId}
        and o.occurred_at >= greatest(b.bucket_start, bounds.since)
        and o.occurred_at < b.bucket_start + make_interval(secs => ${b})
      group by b.bucket_start order by b.bucket_start`
  })

export const evalStats = (tenantId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`select count(*)::int as total_evals,
        count(*) filter (where created_at >= now() - interval '24 hours')::int as evals_last_24h,
        avg(score)::float8 as avg_score,
        (avg(case when score >= 0.8 then 1.0 else 0.0 end))::float8 as high_quality_rate
      from voice_session_evals where tenant_id = ${tenantId}`.pipe(Effect.map((rows) => rows[0])))

export const sessionCount = (tenantId: string, status: string | undefined) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ count: number }>`select count(*)::int as count from voice_sessions where tenant_id = ${tenantId}
      and ${status === undefined ? sql`true` : sql`status = ${status}`}`.pipe(Effect.map((rows) => rows[0]!.count)))
