import type { Statement } from "@effect/sql"
import type { PgClient } from "@effect/sql-pg"
import { jsonArray, jsonObject } from "../Database/JsonObject.js"
import { VoiceOutcomeCount, VoiceOutcomeStats, VoiceOutcomeTimeseriesPoint } from "./Api.js"

/**
 * Outcome statistics from the hourly rollups (migration 0010) plus the partial hours at the
 * edges of each range, read from `voice_outcomes` itself; equal to a full scan of the window.
 */

const bounds = (sql: PgClient.PgClient, seconds: number) =>
  sql`select now() - make_interval(secs => ${seconds}) as since,
             ssv_hour_ceil(now() - make_interval(secs => ${seconds})) as hour`

/** Totals over the window: whole hours from the rollup, the first partial hour from the table. */
export const totals = (sql: PgClient.PgClient, tenantId: string, seconds: number): Statement.Statement<unknown> =>
  sql`with b as (${bounds(sql, seconds)}), parts as (
      select h.total, h.billable, h.not_billable, h.pending_emit, h.emitted, h.failed_billing, h.escalated,
        h.duration_sum, h.duration_count
      from voice_outcome_hourly h, b where h.tenant_id = ${tenantId} and h.hour >= b.hour
      union all
      select 1, (o.billing_status <> 'not_billable')::int, (o.billing_status = 'not_billable')::int,
        (o.billing_status = 'pending_emit')::int, (o.billing_status = 'emitted')::int, (o.billing_status in ('failed', 'failed_billing'))::int,
        o.escalated::int, coalesce(o.duration_seconds, 0), (o.duration_seconds is not null)::int
      from voice_outcomes o, b where o.tenant_id = ${tenantId} and o.occurred_at >= b.since and o.occurred_at < b.hour)
    select coalesce(sum(total), 0)::int as total, coalesce(sum(billable), 0)::int as billable,
      coalesce(sum(not_billable), 0)::int as not_billable, coalesce(sum(pending_emit), 0)::int as pending_emit,
      coalesce(sum(emitted), 0)::int as emitted, coalesce(sum(failed_billing), 0)::int as failed_billing,
      coalesce(sum(escalated), 0)::int as escalated,
      (sum(duration_sum)::numeric / nullif(sum(duration_count), 0))::float8 as avg_duration_seconds
    from parts`

/** Each dimension's counts: a JSON array of VoiceOutcomeCount, most frequent first (then by name). */
const countsJson = jsonArray(jsonObject(VoiceOutcomeCount.fields, { count: "count", name: "name" }), "count desc, name")

export type MixColumn = "resolution" | "billing_status" | "billable_sku" | "risk_level"

/**
 * The four mixes of the window in one statement: per dimension, how many outcomes have each
 * value, most frequent first (then by name), as JSON arrays of {count, name}.
 */
export const mixes = (sql: PgClient.PgClient, tenantId: string, seconds: number) =>
  sql`with b as (${bounds(sql, seconds)}), parts as (
      select m.dimension, m.value as name, m.n from voice_outcome_hourly_mix m, b
      where m.tenant_id = ${tenantId} and m.hour >= b.hour
      union all
      select d.dimension, d.value, 1 from voice_outcomes o, b,
        lateral (values ('resolution', o.resolution), ('billing_status', o.billing_status),
          ('billable_sku', o.billable_sku), ('risk_level', o.risk_level)) d (dimension, value)
      where o.tenant_id = ${tenantId} and o.occurred_at >= b.since and o.occurred_at < b.hour and d.value is not null),
    counts as (select dimension, name, sum(n)::int as count from parts group by 1, 2 having sum(n) > 0)
    select ${sql.literal(["resolution", "billing_status", "billable_sku", "risk_level"].map((dimension) =>
      `(select ${countsJson} from counts where dimension = '${dimension}') as ${dimension}`).join(",\n"))}`

/**
 * Buckets aligned on multiples of `bucketSeconds`; each covers [a, b) with a = max(start, since).
 * Whole hours [lo, hi) come from the rollup, [a, lo) and [hi, b) from the table (all of it when
 * the bucket is shorter than an hour).
 */
export const series = (sql: PgClient.PgClient, tenantId: string, seconds: number, bucketSeconds: number) =>
  sql`with bounds as (
      select to_timestamp(floor(extract(epoch from now() - make_interval(secs => ${seconds})) / ${bucketSeconds})
                          * ${bucketSeconds}) as first_bucket,
             now() - make_interval(secs => ${seconds}) as since
    ),
    buckets as (
      select bucket_start, greatest(bucket_start, since) as a, bucket_start + make_interval(secs => ${bucketSeconds}) as b
      from (select generate_series(first_bucket, now(), make_interval(secs => ${bucketSeconds})) as bucket_start, since
            from bounds) g
    ),
    ranges as (
      select bucket_start, a, b, lo, greatest(date_trunc('hour', b, 'UTC'), lo) as hi
      from buckets, lateral (select least(ssv_hour_ceil(a), b) as lo) l
    ),
    -- One range scan of the window's hours, each matched to its bucket by arithmetic.
    hours as (
      select to_timestamp(floor(extract(epoch from h.hour) / ${bucketSeconds}) * ${bucketSeconds}) as bucket_start, h.*
      from voice_outcome_hourly h, bounds where h.tenant_id = ${tenantId} and h.hour >= bounds.since
    ),
    parts as (
      select r.bucket_start, h.total, h.billable, h.escalated, h.pending_emit, h.duration_sum, h.duration_count
      from ranges r join hours h on h.bucket_start = r.bucket_start and h.hour >= r.lo and h.hour < r.hi
      union all
      select r.bucket_start, 1, (o.billing_status <> 'not_billable')::int, o.escalated::int,
        (o.billing_status = 'pending_emit')::int, coalesce(o.duration_seconds, 0), (o.duration_seconds is not null)::int
      from ranges r join voice_outcomes o on o.tenant_id = ${tenantId}
        and ((o.occurred_at >= r.a and o.occurred_at < r.lo) or (o.occurred_at >= r.hi and o.occurred_at < r.b))
    )
    select r.bucket_start, coalesce(sum(p.total), 0)::int as total, coalesce(sum(p.billable), 0)::int as billable,
      coalesce(sum(p.escalated), 0)::int as escalated, coalesce(sum(p.pending_emit), 0)::int as pending_emit,
      (sum(p.duration_sum)::numeric / nullif(sum(p.duration_count), 0))::float8 as avg_duration_seconds
    from ranges r left join parts p on p.bucket_start = r.bucket_start
    group by r.bucket_start order by r.bucket_start`

/** The window's VoiceOutcomeStats, as JSON in the wire schema's field order (`t`: totals, `m`: mixes). */
const statsObject = jsonObject(VoiceOutcomeStats.fields, {
  avg_duration_seconds: "t.avg_duration_seconds",
  billable: "t.billable",
  billing_status_mix: "m.billing_status",
  emitted: "t.emitted",
  escalated: "t.escalated",
  failed_billing: "t.failed_billing",
  not_billable: "t.not_billable",
  pending_emit: "t.pending_emit",
  resolution_mix: "m.resolution",
  risk_mix: "m.risk_level",
  sku_mix: "m.billable_sku",
  total: "t.total"
})

/** Totals and mixes in one statement (one round trip, one `now()`), as the stats' JSON text. */
export const statsJson = (sql: PgClient.PgClient, tenantId: string, seconds: number) =>
  sql<{ readonly stats: string }>`select ${sql.literal(statsObject)}::text as stats
    from (${totals(sql, tenantId, seconds)}) t, (${mixes(sql, tenantId, seconds)}) m`

const pointObject = jsonObject(VoiceOutcomeTimeseriesPoint.fields, {
  avg_duration_seconds: "p.avg_duration_seconds",
  billable: "p.billable",
  bucket_start: "ssv_iso(p.bucket_start)",
  escalated: "p.escalated",
  pending_emit: "p.pending_emit",
  total: "p.total"
})

/** The series' points as a JSON array of VoiceOutcomeTimeseriesPoint, oldest first. */
export const seriesJson = (sql: PgClient.PgClient, tenantId: string, seconds: number, bucketSeconds: number) =>
  sql<{ readonly points: string }>`select ${sql.literal(jsonArray(pointObject, "p.bucket_start"))}::text as points
    from (${series(sql, tenantId, seconds, bucketSeconds)}) p`
