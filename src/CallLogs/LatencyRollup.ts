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
  scannedStats,
  slowestJson,
  slowestOrder,
  statsJson
} from "./LatencyJson.js"

/**
 * percentile_cont from per-value counts (call_log_latency_values, migration 0036): for each
 * metric the values with the count of smaller ones (`below`); the rows at ranks floor and ceil of
 * p*(n-1) are the values whose ranks hold them, interpolated as PostgreSQL's
 * percentile_cont_final_common and float8_lerp do (the same doubles, so the same result).
 */
const countedPercentiles = `
  ranked as (
    select metric, value, calls, sum(calls) over (partition by metric order by value) - calls as below
    from counted where metric <= 6),
  targets as (
    select metric, fraction * (sum(calls) - 1)::float8 as position
    from counted join (values (1, 0.5::float8), (2, 0.95::float8), (3, 0.99::float8), (4, 0.5::float8),
      (5, 0.95::float8), (6, 0.99::float8)) f (metric, fraction) using (metric)
    group by metric, fraction),
  picked as (
    select t.metric, t.position, floor(t.position) as low, ceil(t.position) as high,
      (select r.value from ranked r where r.metric = t.metric and r.below + r.calls > floor(t.position) order by r.value limit 1) as low_value,
      (select r.value from ranked r where r.metric = t.metric and r.below + r.calls > ceil(t.position) order by r.value limit 1) as high_value
    from targets t),
  percentiles as (
    select ${
  ["p50_llm_first_token_ms", "p95_llm_first_token_ms", "p99_llm_first_token_ms", "p50_e2e_first_audio_ms", "p95_e2e_first_audio_ms", "p99_e2e_first_audio_ms"]
    .map((name, i) =>
      `max(case when high > low then low_value + ((position - low) * (high_value - low_value)) else low_value end) filter (where metric = ${i + 1}) as ${name}`
    ).join(",\n      ")
}
    from picked)`

/**
 * The call-logs/latency report for 30d and all time from the rollups of migration 0036, equal
 * to LatencyRepo's scan: points of whole days whose cached point is current come from
 * call_log_latency_day_points, other days (the window's first, partial day; days written since
 * their point was cached) from their rows; the slowest calls are read in the order of their index.
 * All time takes its counts, sums, maxima and percentiles from the day slots and value counts;
 * 30d from its rows (~8,000 calls: a pass and six sorts).
 */
export class CallLatencyRollup extends Effect.Service<CallLatencyRollup>()("CallLatencyRollup", {
  effect: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const execute = yield* makeExecute(sql)

    // The days after the window's start, their sum of changes (a cached point is current while
    // its stamp equals it), and the current cached points among them.
    const cachedPoints = (tenantId: string, since: Date | null) =>
      sql`days as (
          select day, sum(changes) as changes from call_log_latency_day_slots
          where tenant_id = ${tenantId} and ${since === null ? sql`true` : sql`day > ${since} and day <= 'infinity'`}
          group by day),
        cached as (
          select p.day as bucket, p.calls as call_count, p.p50_llm as p50_llm_first_token_ms, p.p95_llm as p95_llm_first_token_ms,
            p.p99_llm as p99_llm_first_token_ms, p.p50_e2e as p50_e2e_first_audio_ms, p.p95_e2e as p95_e2e_first_audio_ms,
            p.p99_e2e as p99_e2e_first_audio_ms
          from days d join call_log_latency_day_points p on p.tenant_id = ${tenantId} and p.day = d.day and p.changes = d.changes)`

    const json = (limit: number, tenantId: string, since: Date | null) =>
      sql`slowest as (
          select ${sql.literal(latencyColumns)} from call_log_latency
          where tenant_id = ${tenantId} and ${since === null ? sql`true` : sql`started_at >= ${since} and started_at <= 'infinity'`}
          order by ${sql.literal(slowestOrder(""))} limit ${limit})
        select (select ${sql.literal(statsJson)} from stats)::text as stats,
          (select ${sql.literal(slowestJson)}
            from slowest s join call_logs c on c.id = s.call_log_id and c.tenant_id = ${tenantId})::text as slowest,
          (select ${sql.literal(pointsJson)} from points where call_count > 0)::text as points`

    // 30d: the window's rows give the stats and the points of the days not cached.
    const window = (tenantId: string, since: Date, limit: number, windowName: string) =>
      sql<LatencyReportJson>`with calls as materialized (
          select ${sql.literal(latencyColumns)} from call_log_latency
          where tenant_id = ${tenantId} and started_at >= ${since} and started_at <= 'infinity'),
        stats as (select *, ${windowName}::text as window_name from (${sql.literal(scannedStats("calls"))}) scanned),
        ${cachedPoints(tenantId, since)},
        points as (
          select * from cached
          union all
          select date_trunc('day', started_at, 'UTC') as bucket, count(*) as call_count, ${sql.literal(percentiles)}
          from calls where date_trunc('day', started_at, 'UTC') not in (select bucket from cached) group by 1),
        ${json(limit, tenantId, since)}`

    // All time: nothing read per call but the days not cached and the slowest.
    const allTime = (tenantId: string, limit: number, windowName: string) =>
      sql<LatencyReportJson>`with counted as materialized (
          select metric, value, calls from call_log_latency_values where tenant_id = ${tenantId} and calls > 0),
        ${sql.literal(countedPercentiles)},
        totals as (
          select coalesce(sum(calls), 0)::int8 as call_sample_count, coalesce(sum(turns), 0)::int8 as turn_sample_count,
            ${sql.literal(average("sum(llm_avg_sum)", "sum(llm_avg_calls)"))} as avg_llm_first_token_ms,
            ${sql.literal(average("sum(e2e_avg_sum)", "sum(e2e_avg_calls)"))} as avg_e2e_first_audio_ms
          from call_log_latency_day_slots where tenant_id = ${tenantId}),
        maxima as (
          select max(value) filter (where metric = 7) as max_llm_first_token_ms,
            max(value) filter (where metric = 8) as max_e2e_first_audio_ms
          from counted where metric >= 7),
        stats as (select *, ${windowName}::text as window_name from totals, maxima, percentiles),
        ${cachedPoints(tenantId, null)},
        points as (
          select * from cached
          union all
          select d.day, pt.* from days d, lateral call_log_latency_day_point(${tenantId}, d.day) pt
          where d.day not in (select bucket from cached)),
        ${json(limit, tenantId, null)}`

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
