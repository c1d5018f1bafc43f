import { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"
import { orUnavailable } from "../Database/Errors.js"
import { makeExecute } from "../Database/HotStatement.js"
import { compactJsonb } from "../Http/JsonbText.js"
import {
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
 * The call-logs/latency report by a pass over the window's calls (24h and 7d; 30d and all are
 * LatencyRollup.ts, which equals it): over a tenant's calls with turns in the window, the
 * percentiles of each call's own percentiles (the spec's p95 is the p95 of the per-call p95s),
 * the slowest calls and a series per hour or day. The per-call numbers come from
 * `call_log_latency` (migration 0034), read index-only; only the slowest calls' rows are read
 * from call_logs. PostgreSQL writes the three parts as JSON in the wire schemas' field order,
 * passed through as text (compacted as the encoder writes it), never decoded here.
 */
export class CallLatencyRepo extends Effect.Service<CallLatencyRepo>()("CallLatencyRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const execute = yield* makeExecute(sql)

    // One plan suits every tenant and window start (the window index's range), so the two
    // shapes (a window, all time) are prepared. The bound `<= 'infinity'` excludes nothing; it
    // makes the window a range, which a generic plan estimates at 0.5% of the rows (an open
    // `>= $2` alone is a third, and that plan read the whole table: 1,924 pages for 269 calls).
    const report = (tenantId: string, since: Date | null, limit: number, bucket: "hour" | "day", window: string) =>
      orUnavailable(execute.prepared(sql<LatencyReportJson>`with calls as materialized (
          select ${sql.literal(latencyColumns)} from call_log_latency
          where tenant_id = ${tenantId} and ${since === null ? sql`true` : sql`started_at >= ${since} and started_at <= 'infinity'`}),
        stats as (select *, ${window}::text as window_name from (${sql.literal(scannedStats("calls"))}) scanned),
        slowest as (select * from calls order by ${sql.literal(slowestOrder(""))} limit ${limit}),
        points as (
          select date_trunc(${bucket}::text, started_at, 'UTC') as bucket, count(*) as call_count, ${sql.literal(percentiles)}
          from calls group by 1)
        select (select ${sql.literal(statsJson)} from stats)::text as stats,
          (select ${sql.literal(slowestJson)}
            from slowest s join call_logs c on c.id = s.call_log_id and c.tenant_id = ${tenantId})::text as slowest,
          (select ${sql.literal(pointsJson)} from points)::text as points`)).pipe(
        Effect.map((rows): LatencyReportJson => {
          const row = rows[0]!
          return { stats: compactJsonb(row.stats), slowest: compactJsonb(row.slowest), points: compactJsonb(row.points) }
        })
      )

    return { report } as const
  })
}) {}
