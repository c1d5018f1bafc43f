import { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"
import { orUnavailable } from "../Database/Errors.js"
import { makeExecute } from "../Database/HotStatement.js"
import { compactJsonb } from "../Http/JsonbText.js"
import {
  average,
  latencyColumns,
  type LatencyReportJson,
  percentiles,
  pointsJson,
  slowestJson,
  slowestOrder,
  statsJson
} from "./LatencyJson.js"

/**
 * The most slow calls a report asks for (`samples`, LatencyQuery). Read as a constant and cut to
 * `samples` afterwards: a LIMIT parameter makes the generic plan count a tenth of the table, and
 * PostgreSQL then plans the statement again on every execution.
 */
const MAX_SAMPLES = 50

const PERCENTILE_NAMES = [
  "p50_llm_first_token_ms",
  "p95_llm_first_token_ms",
  "p99_llm_first_token_ms",
  "p50_e2e_first_audio_ms",
  "p95_e2e_first_audio_ms",
  "p99_e2e_first_audio_ms"
]

const METRIC_COLUMNS = ["llm_p50", "llm_p95", "llm_p99", "e2e_p50", "e2e_p95", "e2e_p99"]

/**
 * percentile_cont from bucket counts (`counted`: call_log_latency_buckets, migration 0037; counts
 * as float8, exact below 2^53 and summed faster than int8's numeric sums) and an index probe:
 * each metric's buckets with the number of smaller values (`below`); the bucket holding rank
 * floor(p*(n-1)) is read from its lower bound in its metric's index, skipping the ranks before,
 * for the values at ranks floor and ceil (the next one, maybe in the next bucket), interpolated
 * as PostgreSQL's percentile_cont_final_common and float8_lerp do (the same doubles, so the same
 * result). A CASE runs only its metric's probe.
 */
const countedPercentiles = (tenantParameter: string) => `
  ranked as (
    select metric, lo, sum(calls) over (partition by metric order by lo) - calls as below, calls
    from counted),
  targets as (
    select metric, fraction * (sum(calls) - 1) as position
    from counted join (values (1, 0.5::float8), (2, 0.95::float8), (3, 0.99::float8), (4, 0.5::float8),
      (5, 0.95::float8), (6, 0.99::float8)) f (metric, fraction) using (metric)
    group by metric, fraction),
  ranks as (select metric, position, floor(position) as low, ceil(position) as high from targets),
  located as (
    select k.metric, k.position, k.low, k.high, r.lo, (k.low - r.below)::int8 as skip
    from ranks k join ranked r on r.metric = k.metric and r.below <= k.low and k.low < r.below + r.calls),
  picked as (
    select metric, position, low, high, case metric ${
  METRIC_COLUMNS.map((column, i) =>
    `when ${i + 1} then array(select ${column} from call_log_latency
        where tenant_id = ${tenantParameter} and ${column} >= lo order by ${column} offset skip limit 2)`
  ).join("\n      ")
} end as probed
    from located),
  percentiles as (
    select ${
  PERCENTILE_NAMES.map((name, i) =>
    `max(case when high > low then probed[1] + ((position - low) * (probed[2] - probed[1])) else probed[1] end) filter (where metric = ${
      i + 1
    }) as ${name}`
  ).join(",\n      ")
}
    from picked)`

/**
 * The call-logs/latency report for 30d and all time from the rollups of migration 0036, equal
 * to LatencyRepo's scan. Whole days after the window's start give their counts and sums from
 * their slots, and their point and maxima from their cached point while it is current, else from
 * their rows; the window's first, partial day is read from its rows. Percentiles: all time from
 * bucket counts and index probes, 30d from its rows (six sorts of ~8,000 values, read index-only). The slowest:
 * a top-N of the window's rows for 30d (its own read: a CTE of the window's wide rows, shared with
 * the percentiles, cost twice the time), in the order of their index for all time.
 */
export class CallLatencyRollup extends Effect.Service<CallLatencyRollup>()("CallLatencyRollup", {
  effect: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const execute = yield* makeExecute(sql)

    // Whole days after the window's start: counts and sums from their slots; point and maxima
    // from the cached point while current, else from the day's rows (call_log_latency_day_point,
    // a day at a time). 30d adds its first, partial day from its rows.
    const rolledUp = (tenantId: string, since: Date | null, limit: number, windowName: string) =>
      sql`days as materialized (
          select day, sum(changes)::int8 as changes, sum(calls) as calls, sum(turns) as turns,
            sum(llm_avg_calls) as llm_avg_calls, sum(llm_avg_sum) as llm_avg_sum,
            sum(e2e_avg_calls) as e2e_avg_calls, sum(e2e_avg_sum) as e2e_avg_sum
          from call_log_latency_day_slots
          where tenant_id = ${tenantId} and ${since === null ? sql`true` : sql`day > ${since} and day <= 'infinity'`}
          group by day),
        day_points as materialized (
          select d.day, coalesce(p.calls, f.calls) as calls, coalesce(p.p50_llm, f.p50_llm) as p50_llm,
            coalesce(p.p95_llm, f.p95_llm) as p95_llm, coalesce(p.p99_llm, f.p99_llm) as p99_llm,
            coalesce(p.p50_e2e, f.p50_e2e) as p50_e2e, coalesce(p.p95_e2e, f.p95_e2e) as p95_e2e,
            coalesce(p.p99_e2e, f.p99_e2e) as p99_e2e, coalesce(p.llm_max, f.llm_max) as llm_max,
            coalesce(p.e2e_max, f.e2e_max) as e2e_max
          from days d
          left join call_log_latency_day_points p on p.tenant_id = ${tenantId} and p.day = d.day and p.changes = d.changes
          left join lateral call_log_latency_day_point(${tenantId}, case when p.day is null then d.day end) f on true),
        partial as materialized (
          ${
        since === null ? sql`select ${sql.literal(latencyColumns)} from call_log_latency where false` : sql`select ${sql.literal(latencyColumns)} from call_log_latency
          where tenant_id = ${tenantId} and started_at >= ${since}
            and started_at < date_trunc('day', ${since}::timestamptz, 'UTC') + interval '1 day'`
      }),
        rolled as (
          select sum(calls) as calls, sum(turns) as turns, sum(llm_avg_calls) as llm_avg_calls, sum(llm_avg_sum) as llm_avg_sum,
            sum(e2e_avg_calls) as e2e_avg_calls, sum(e2e_avg_sum) as e2e_avg_sum,
            (select max(llm_max) from day_points) as llm_max, (select max(e2e_max) from day_points) as e2e_max
          from days),
        partial_totals as (
          select count(*) as calls, sum(turns) as turns, count(llm_avg) as llm_avg_calls, sum(llm_avg::numeric) as llm_avg_sum,
            count(e2e_avg) as e2e_avg_calls, sum(e2e_avg::numeric) as e2e_avg_sum, max(llm_max) as llm_max, max(e2e_max) as e2e_max
          from partial),
        stats as (
          select (coalesce(r.calls, 0) + u.calls)::int8 as call_sample_count,
            (coalesce(r.turns, 0) + coalesce(u.turns, 0))::int8 as turn_sample_count,
            ${
        sql.literal(average("(coalesce(r.llm_avg_sum, 0) + coalesce(u.llm_avg_sum, 0))", "(coalesce(r.llm_avg_calls, 0) + u.llm_avg_calls)"))
      } as avg_llm_first_token_ms,
            ${
        sql.literal(average("(coalesce(r.e2e_avg_sum, 0) + coalesce(u.e2e_avg_sum, 0))", "(coalesce(r.e2e_avg_calls, 0) + u.e2e_avg_calls)"))
      } as avg_e2e_first_audio_ms,
            greatest(r.llm_max, u.llm_max) as max_llm_first_token_ms, greatest(r.e2e_max, u.e2e_max) as max_e2e_first_audio_ms,
            p.*, ${windowName}::text as window_name
          from rolled r, partial_totals u, percentiles p),
        points as (
          select day as bucket, calls as call_count, p50_llm as p50_llm_first_token_ms, p95_llm as p95_llm_first_token_ms,
            p99_llm as p99_llm_first_token_ms, p50_e2e as p50_e2e_first_audio_ms, p95_e2e as p95_e2e_first_audio_ms,
            p99_e2e as p99_e2e_first_audio_ms
          from day_points where calls > 0
          union all
          select date_trunc('day', started_at, 'UTC'), count(*), ${sql.literal(percentiles)} from partial group by 1)
        select (select ${sql.literal(statsJson)} from stats)::text as stats,
          (select ${sql.literal(slowestJson)}
            from (select * from slowest order by ${sql.literal(slowestOrder(""))} limit ${limit}) s
            join call_logs c on c.id = s.call_log_id and c.tenant_id = ${tenantId})::text as slowest,
          (select ${sql.literal(pointsJson)} from points)::text as points`

    // 30d: its rows give the percentiles and the slowest (a top-N of them), each read index-only.
    const window = (tenantId: string, since: Date, limit: number, windowName: string) =>
      sql<LatencyReportJson>`with percentiles as (
          select ${sql.literal(percentiles)} from call_log_latency
          where tenant_id = ${tenantId} and started_at >= ${since} and started_at <= 'infinity'),
        slowest as (
          select ${sql.literal(latencyColumns)} from call_log_latency
          where tenant_id = ${tenantId} and started_at >= ${since} and started_at <= 'infinity'
          order by ${sql.literal(slowestOrder(""))} limit ${sql.literal(String(MAX_SAMPLES))}),
        ${rolledUp(tenantId, since, limit, windowName)}`

    // All time: percentiles from the bucket counts and index probes, the slowest from their index.
    // The probes are literal text: they read the tenant from the `tenant` CTE, not a parameter of their own.
    const allTime = (tenantId: string, limit: number, windowName: string) =>
      sql<LatencyReportJson>`with tenant as materialized (select ${tenantId}::text as id),
        counted as materialized (
          select metric, lo, calls::float8 as calls from call_log_latency_buckets where tenant_id = (select id from tenant) and calls > 0),
        ${sql.literal(countedPercentiles("(select id from tenant)"))},
        slowest as (
          select ${sql.literal(latencyColumns)} from call_log_latency where tenant_id = ${tenantId}
          order by ${sql.literal(slowestOrder(""))} limit ${sql.literal(String(MAX_SAMPLES))}),
        ${rolledUp(tenantId, null, limit, windowName)}`

    const report = (tenantId: string, since: Date | null, limit: number, windowName: string) =>
      orUnavailable(execute.prepared(
        since === null ? allTime(tenantId, limit, windowName) : window(tenantId, since, limit, windowName)
      )).pipe(
        Effect.map((rows): LatencyReportJson => {
          const row = rows[0]!
          return { stats: compactJsonb(row.stats), slowest: compactJsonb(row.slowest), points: compactJsonb(row.points) }
        })
      )

    return { report } as const
  })
}) {}
