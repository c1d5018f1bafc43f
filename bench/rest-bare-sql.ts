/**
 * The statements the service sends for the REST cases of `bench:rest`, as PostgreSQL logged them
 * (log_statement = all on a scratch copy, main 4976985, one request per case), verbatim: the bare
 * baseline (bench/rest-baseline.ts) sends these texts, so its figures are the floor for the same
 * SQL. When a repo's SQL changes, capture again: bench:rest compares the two processes' bodies for
 * every case before measuring ("same body" column), which shows a text that drifted.
 *   prepared (named) by the service: callLogsPage, sessionsPage, callStats, latencyWindow (and
 *   its all-time shape, below), outcomeStats, outcomeSeries, evalStats, detail, sessionDetail;
 *   unnamed: the rest.
 */

export const callLogsPage = `select direction, duration_seconds, ended_at::text as ended_at, escalated, from_number, function_call_count, id, outcome, started_at::text as started_at, status, stream_sid, to_number, transcript_length from call_logs where tenant_id = $1
            order by call_logs.started_at desc, call_logs.id desc
            limit 51`

/** The call-log and voice-session details (prepared by the service since helper tails, 2026-12-04: its text, not a log capture). */
export const detail = `select answered_by, call_sid, created_at::text as created_at, direction, duration_seconds, ended_at::text as ended_at, error_message, escalated, escalation_reason, from_number, function_calls::text as function_calls, id, model, outcome, recording_url, started_at::text as started_at, status, stream_sid, summary, system_prompt_key, tenant_id, to_number, transcript::text as transcript, updated_at::text as updated_at, voice from call_logs
            where tenant_id = $1 and id = $2`

export const sessionDetail = `select agent_name, call_sid, call_type, created_at::text as created_at, customer_phone, duration_ms, ended_at::text as ended_at, function_calls::text as function_calls, id, metadata::text as metadata, model, org_id, rating, sentiment, started_at::text as started_at, status, stream_id, summary, array_to_json(tags)::text as tags, tenant_id, transcript::text as transcript, turn_count, updated_at::text as updated_at, vad_events::text as vad_events, voice from voice_sessions
          where tenant_id = $1 and id = $2`

export const transcriptRecent = `select direction, duration_seconds, ended_at::text as ended_at, escalated, from_number, function_call_count, id, outcome, started_at::text as started_at, status, stream_sid, to_number, transcript_length from (select * from call_logs where tenant_id = $1
          order by started_at desc, id desc limit $2) call_logs where transcript_text ilike $3
            order by call_logs.started_at desc, call_logs.id desc
            limit $4 offset $5`

export const transcriptNarrowed = `with matches as materialized (select id, started_at from (
              select id, started_at, transcript_text from call_logs
              where (tenant_id = $1 AND transcript_text ilike $2) offset 0) candidates
            where transcript_text ilike $3)
          select direction, duration_seconds, ended_at::text as ended_at, escalated, from_number, function_call_count, id, outcome, started_at::text as started_at, status, stream_sid, to_number, transcript_length from call_logs
          where tenant_id = $4 and id in (
            select id from matches order by started_at desc, id desc limit $5 offset $6)
          order by call_logs.started_at desc, call_logs.id desc`

export const sessionsPage = `select (select coalesce(sum(n), 0) from voice_session_counts
          where tenant_id = $1 and true)::int as count, false as kept,
        agent_name, call_sid, call_type, created_at::text as created_at, customer_phone, duration_ms, ended_at::text as ended_at, function_calls::text as function_calls, id, metadata::text as metadata, model, org_id, rating, sentiment, started_at::text as started_at, status, stream_id, summary, array_to_json(tags)::text as tags, tenant_id, transcript::text as transcript, turn_count, updated_at::text as updated_at, vad_events::text as vad_events, voice
        from (select * from voice_sessions where tenant_id = $2
      and true
      and true
      and true
          order by started_at desc, id
          limit 50) page order by page.started_at desc, page.id`

export const sessionSearch = `with kept as (select coalesce(sum(c.n), 0) as n from voice_session_search_terms t
        left join voice_session_search_counts c on c.tenant_id = t.tenant_id and c.pattern = t.pattern
          and true
        where t.tenant_id = $1 and t.pattern = lower($2) and t.ready
        group by t.tenant_id, t.pattern),
      hits as materialized (select session_id, started_at from voice_session_search where tenant_id = $3
      and true
      and true
      and search_text like lower($4)
      and true limit $5) select (select coalesce((select n from kept), (select count(*) from hits)))::int as count, exists (select 1 from kept) as kept,
        agent_name, call_sid, call_type, created_at::text as created_at, customer_phone, duration_ms, ended_at::text as ended_at, function_calls::text as function_calls, id, metadata::text as metadata, model, org_id, rating, sentiment, started_at::text as started_at, status, stream_id, summary, array_to_json(tags)::text as tags, tenant_id, transcript::text as transcript, turn_count, updated_at::text as updated_at, vad_events::text as vad_events, voice
        from (select * from voice_sessions where tenant_id = $6 and id in (select session_id from (select * from (select session_id, started_at from hits where (not exists (select 1 from kept) and (select count(*) from hits) < $7) order by started_at desc, session_id limit $8 offset $9) few
      union all
      select * from (select session_id, started_at from voice_session_search where tenant_id = $10
      and true
      and true
      and search_text like lower($11)
      and true order by started_at desc, session_id limit $12 offset $13) more where not (not exists (select 1 from kept) and (select count(*) from hits) < $14)) ids)) page order by page.started_at desc, page.id`

export const callStats = `select (select row_to_json(json_fields) from (select case when s.outcome_calls = 0 then null else s.answered_calls::float8 / s.outcome_calls::float8 end as "answer_rate", s.answered_calls as "answered_calls", s.avg_duration_seconds as "avg_duration_seconds", s.busy_calls as "busy_calls", s.calls_last_24h as "calls_last_24h", s.completed_calls as "completed_calls", s.escalated_calls as "escalated_calls", s.failed_calls as "failed_calls", s.failed_outcome_calls as "failed_outcome_calls", s.no_answer_calls as "no_answer_calls", s.total_calls as "total_calls", s.voicemail_calls as "voicemail_calls") json_fields)::text as stats from (with since as (select $1::timestamptz as at, ssv_hour_ceil($2::timestamptz) as hour),
    totals as (
      select coalesce(sum(total), 0)::int8 as total_calls, coalesce(sum(completed), 0)::int8 as completed_calls,
        coalesce(sum(escalated), 0)::int8 as escalated_calls, coalesce(sum(failed), 0)::int8 as failed_calls,
        coalesce(sum(answered), 0)::int8 as answered_calls, coalesce(sum(voicemail), 0)::int8 as voicemail_calls,
        coalesce(sum(no_answer), 0)::int8 as no_answer_calls, coalesce(sum(busy), 0)::int8 as busy_calls,
        coalesce(sum(failed_outcome), 0)::int8 as failed_outcome_calls,
        coalesce(sum(outcome_calls), 0)::int8 as outcome_calls,
        -- avg(integer) is numeric sum / count, then float8: the same arithmetic
        (sum(duration_sum)::numeric / nullif(sum(duration_count), 0))::float8 as avg_duration_seconds
      from call_log_hourly where tenant_id = $3 and hour = '-infinity')
    select totals.*,
      (select coalesce(sum(h.total), 0) from call_log_hourly h, since
        where h.tenant_id = $4 and h.hour >= since.hour)::int8
      + (select count(*) from call_logs c, since
        where c.tenant_id = $5 and c.started_at >= since.at and c.started_at < since.hour) as calls_last_24h
    from totals) s`

export const latencyWindow = `with calls as materialized (
          select call_log_id, started_at, turns, llm_avg, llm_p50, llm_p95, llm_p99, llm_max,
            e2e_avg, e2e_p50, e2e_p95, e2e_p99, e2e_max
          from call_log_latency
          where tenant_id = $1 and started_at >= $2 and started_at <= 'infinity'),
        stats as (
          select count(*) as call_sample_count, coalesce(sum(turns), 0)::int8 as turn_sample_count,
            avg(llm_avg)::float8 as avg_llm_first_token_ms, avg(e2e_avg)::float8 as avg_e2e_first_audio_ms,
            max(llm_max) as max_llm_first_token_ms, max(e2e_max) as max_e2e_first_audio_ms,
            
  percentile_cont(0.5) within group (order by llm_p50) as p50_llm_first_token_ms,
  percentile_cont(0.95) within group (order by llm_p95) as p95_llm_first_token_ms,
  percentile_cont(0.99) within group (order by llm_p99) as p99_llm_first_token_ms,
  percentile_cont(0.5) within group (order by e2e_p50) as p50_e2e_first_audio_ms,
  percentile_cont(0.95) within group (order by e2e_p95) as p95_e2e_first_audio_ms,
  percentile_cont(0.99) within group (order by e2e_p99) as p99_e2e_first_audio_ms, $3::text as window_name
          from calls),
        slowest as (select * from calls order by e2e_p95 desc nulls last, llm_p95 desc nulls last, started_at desc, call_log_id limit $4),
        points as (
          select date_trunc($5::text, started_at, 'UTC') as bucket, count(*) as call_count, 
  percentile_cont(0.5) within group (order by llm_p50) as p50_llm_first_token_ms,
  percentile_cont(0.95) within group (order by llm_p95) as p95_llm_first_token_ms,
  percentile_cont(0.99) within group (order by llm_p99) as p99_llm_first_token_ms,
  percentile_cont(0.5) within group (order by e2e_p50) as p50_e2e_first_audio_ms,
  percentile_cont(0.95) within group (order by e2e_p95) as p95_e2e_first_audio_ms,
  percentile_cont(0.99) within group (order by e2e_p99) as p99_e2e_first_audio_ms
          from calls group by 1)
        select (select (select row_to_json(json_fields) from (select avg_e2e_first_audio_ms as "avg_e2e_first_audio_ms", avg_llm_first_token_ms as "avg_llm_first_token_ms", call_sample_count as "call_sample_count", max_e2e_first_audio_ms as "max_e2e_first_audio_ms", max_llm_first_token_ms as "max_llm_first_token_ms", p50_e2e_first_audio_ms as "p50_e2e_first_audio_ms", p50_llm_first_token_ms as "p50_llm_first_token_ms", p95_e2e_first_audio_ms as "p95_e2e_first_audio_ms", p95_llm_first_token_ms as "p95_llm_first_token_ms", p99_e2e_first_audio_ms as "p99_e2e_first_audio_ms", p99_llm_first_token_ms as "p99_llm_first_token_ms", turn_sample_count as "turn_sample_count", window_name as "window") json_fields) from stats)::text as stats,
          (select coalesce('[' || string_agg(((select row_to_json(json_fields) from (select c.call_sid as "call_sid", c.duration_seconds as "duration_seconds", s.e2e_p95 as "e2e_p95_ms", c.id as "id", s.llm_p50 as "llm_p50_ms", s.llm_p95 as "llm_p95_ms", c.model as "model", ssv_iso(c.started_at) as "started_at", c.stream_sid as "stream_sid", s.turns as "turn_count", c.voice as "voice") json_fields))::text, ',' order by s.e2e_p95 desc nulls last, s.llm_p95 desc nulls last, s.started_at desc, s.call_log_id) || ']', '[]')::json
            from slowest s join call_logs c on c.id = s.call_log_id and c.tenant_id = $6)::text as slowest,
          (select coalesce('[' || string_agg(((select row_to_json(json_fields) from (select ssv_iso(bucket) as "bucket_start", call_count as "call_count", p50_e2e_first_audio_ms as "p50_e2e_first_audio_ms", p50_llm_first_token_ms as "p50_llm_first_token_ms", p95_e2e_first_audio_ms as "p95_e2e_first_audio_ms", p95_llm_first_token_ms as "p95_llm_first_token_ms", p99_e2e_first_audio_ms as "p99_e2e_first_audio_ms", p99_llm_first_token_ms as "p99_llm_first_token_ms") json_fields))::text, ',' order by bucket) || ']', '[]')::json from points)::text as points`

export const outcomeStats = `select (select row_to_json(json_fields) from (select t.avg_duration_seconds as "avg_duration_seconds", t.billable as "billable", m.billing_status as "billing_status_mix", t.emitted as "emitted", t.escalated as "escalated", t.failed_billing as "failed_billing", t.not_billable as "not_billable", t.pending_emit as "pending_emit", m.resolution as "resolution_mix", m.risk_level as "risk_mix", m.billable_sku as "sku_mix", t.total as "total") json_fields)::text as stats
    from (with b as (select now() - make_interval(secs => $1) as since,
             ssv_hour_ceil(now() - make_interval(secs => $2)) as hour), parts as (
      select h.total, h.billable, h.not_billable, h.pending_emit, h.emitted, h.failed_billing, h.escalated,
        h.duration_sum, h.duration_count
      from voice_outcome_hourly h, b where h.tenant_id = $3 and h.hour >= b.hour
      union all
      select 1, (o.billing_status <> 'not_billable')::int, (o.billing_status = 'not_billable')::int,
        (o.billing_status = 'pending_emit')::int, (o.billing_status = 'emitted')::int, (o.billing_status in ('failed', 'failed_billing'))::int,
        o.escalated::int, coalesce(o.duration_seconds, 0), (o.duration_seconds is not null)::int
      from voice_outcomes o, b where o.tenant_id = $4 and o.occurred_at >= b.since and o.occurred_at < b.hour)
    select coalesce(sum(total), 0)::int as total, coalesce(sum(billable), 0)::int as billable,
      coalesce(sum(not_billable), 0)::int as not_billable, coalesce(sum(pending_emit), 0)::int as pending_emit,
      coalesce(sum(emitted), 0)::int as emitted, coalesce(sum(failed_billing), 0)::int as failed_billing,
      coalesce(sum(escalated), 0)::int as escalated,
      (sum(duration_sum)::numeric / nullif(sum(duration_count), 0))::float8 as avg_duration_seconds
    from parts) t, (with b as (select now() - make_interval(secs => $5) as since,
             ssv_hour_ceil(now() - make_interval(secs => $6)) as hour), parts as (
      select m.dimension, m.value as name, m.n from voice_outcome_hourly_mix m, b
      where m.tenant_id = $7 and m.hour >= b.hour
      union all
      select d.dimension, d.value, 1 from voice_outcomes o, b,
        lateral (values ('resolution', o.resolution), ('billing_status', o.billing_status),
          ('billable_sku', o.billable_sku), ('risk_level', o.risk_level)) d (dimension, value)
      where o.tenant_id = $8 and o.occurred_at >= b.since and o.occurred_at < b.hour and d.value is not null),
    counts as (select dimension, name, sum(n)::int as count from parts group by 1, 2 having sum(n) > 0)
    select (select coalesce('[' || string_agg(((select row_to_json(json_fields) from (select count as "count", name as "name") json_fields))::text, ',' order by count desc, name) || ']', '[]')::json from counts where dimension = 'resolution') as resolution,
(select coalesce('[' || string_agg(((select row_to_json(json_fields) from (select count as "count", name as "name") json_fields))::text, ',' order by count desc, name) || ']', '[]')::json from counts where dimension = 'billing_status') as billing_status,
(select coalesce('[' || string_agg(((select row_to_json(json_fields) from (select count as "count", name as "name") json_fields))::text, ',' order by count desc, name) || ']', '[]')::json from counts where dimension = 'billable_sku') as billable_sku,
(select coalesce('[' || string_agg(((select row_to_json(json_fields) from (select count as "count", name as "name") json_fields))::text, ',' order by count desc, name) || ']', '[]')::json from counts where dimension = 'risk_level') as risk_level) m`

export const outcomeSeries = `select coalesce('[' || string_agg(((select row_to_json(json_fields) from (select p.avg_duration_seconds as "avg_duration_seconds", p.billable as "billable", ssv_iso(p.bucket_start) as "bucket_start", p.escalated as "escalated", p.pending_emit as "pending_emit", p.total as "total") json_fields))::text, ',' order by p.bucket_start) || ']', '[]')::json::text as points
    from (with bounds as (
      select to_timestamp(floor(extract(epoch from now() - make_interval(secs => $1)) / $2)
                          * $3) as first_bucket,
             now() - make_interval(secs => $4) as since
    ),
    buckets as (
      select bucket_start, greatest(bucket_start, since) as a, bucket_start + make_interval(secs => $5) as b
      from (select generate_series(first_bucket, now(), make_interval(secs => $6)) as bucket_start, since
            from bounds) g
    ),
    ranges as (
      select bucket_start, a, b, lo, greatest(date_trunc('hour', b, 'UTC'), lo) as hi
      from buckets, lateral (select least(ssv_hour_ceil(a), b) as lo) l
    ),
    -- One range scan of the window's hours, each matched to its bucket by arithmetic.
    hours as (
      select to_timestamp(floor(extract(epoch from h.hour) / $7) * $8) as bucket_start, h.*
      from voice_outcome_hourly h, bounds where h.tenant_id = $9 and h.hour >= bounds.since
    ),
    parts as (
      select r.bucket_start, h.total, h.billable, h.escalated, h.pending_emit, h.duration_sum, h.duration_count
      from ranges r join hours h on h.bucket_start = r.bucket_start and h.hour >= r.lo and h.hour < r.hi
      union all
      select r.bucket_start, 1, (o.billing_status <> 'not_billable')::int, o.escalated::int,
        (o.billing_status = 'pending_emit')::int, coalesce(o.duration_seconds, 0), (o.duration_seconds is not null)::int
      from ranges r join voice_outcomes o on o.tenant_id = $10
        and ((o.occurred_at >= r.a and o.occurred_at < r.lo) or (o.occurred_at >= r.hi and o.occurred_at < r.b))
    )
    select r.bucket_start, coalesce(sum(p.total), 0)::int as total, coalesce(sum(p.billable), 0)::int as billable,
      coalesce(sum(p.escalated), 0)::int as escalated, coalesce(sum(p.pending_emit), 0)::int as pending_emit,
      (sum(p.duration_sum)::numeric / nullif(sum(p.duration_count), 0))::float8 as avg_duration_seconds
    from ranges r left join parts p on p.bucket_start = r.bucket_start
    group by r.bucket_start order by r.bucket_start) p`

export const evalStats = `select (select row_to_json(json_fields) from (select s.avg_score as "avg_score", s.evals_last_24h as "evals_last_24h", s.high_quality_rate as "high_quality_rate", s.total_evals as "total_evals") json_fields)::text as stats from (with b as (select now() - interval '24 hours' as since, ssv_hour_ceil(now() - interval '24 hours') as hour),
      t as (select coalesce(sum(n), 0) as n, sum(score_sum) as score_sum, sum(high_quality) as high_quality
        from voice_session_eval_hourly where tenant_id = $1 and hour = '-infinity')
    select t.n::int as total_evals,
      ((select coalesce(sum(h.n), 0) from voice_session_eval_hourly h, b where h.tenant_id = $2 and h.hour >= b.hour)
        + (select count(*) from voice_session_evals e, b
           where e.tenant_id = $3 and e.created_at >= b.since and e.created_at < b.hour))::int as evals_last_24h,
      (t.score_sum / nullif(t.n, 0))::float8 as avg_score,
      (t.high_quality::numeric / nullif(t.n, 0))::float8 as high_quality_rate
    from t) s`

/**
 * The all-time shape of the latency report (the service prepares it as a second statement):
 * no window bound, so one parameter fewer.
 */
export const latencyAll = latencyWindow
  .replace("started_at >= $2 and started_at <= 'infinity'", "true")
  .replace(/\$(\d+)/g, (whole, n: string) => (Number(n) > 2 ? `$${Number(n) - 1}` : whole))

/**
 * The rolled-up latency report (CallLogs/LatencyRollup.ts, migration 0036) for 30d and all time,
 * as the service sent it (captured from pg at w-latroll; all time again at w-latp99, migration 0037:
 * bucket counts and index probes, from pg_prepared_statements). Parameters: 30d (tenant, since, tenant,
 * since, tenant, since, tenant, tenant, tenant, since, since, window, limit, tenant); all (tenant x5,
 * window, limit, tenant).
 */
export const latencyRollupWindow = `with percentiles as (
          select 
  percentile_cont(0.5) within group (order by llm_p50) as p50_llm_first_token_ms,
  percentile_cont(0.95) within group (order by llm_p95) as p95_llm_first_token_ms,
  percentile_cont(0.99) within group (order by llm_p99) as p99_llm_first_token_ms,
  percentile_cont(0.5) within group (order by e2e_p50) as p50_e2e_first_audio_ms,
  percentile_cont(0.95) within group (order by e2e_p95) as p95_e2e_first_audio_ms,
  percentile_cont(0.99) within group (order by e2e_p99) as p99_e2e_first_audio_ms from call_log_latency
          where tenant_id = $1 and started_at >= $2 and started_at <= 'infinity'),
        slowest as (
          select call_log_id, started_at, turns, llm_avg, llm_p50, llm_p95, llm_p99, llm_max,
  e2e_avg, e2e_p50, e2e_p95, e2e_p99, e2e_max from call_log_latency
          where tenant_id = $3 and started_at >= $4 and started_at <= 'infinity'
          order by e2e_p95 desc nulls last, llm_p95 desc nulls last, started_at desc, call_log_id limit 50),
        days as materialized (
          select day, sum(changes)::int8 as changes, sum(calls) as calls, sum(turns) as turns,
            sum(llm_avg_calls) as llm_avg_calls, sum(llm_avg_sum) as llm_avg_sum,
            sum(e2e_avg_calls) as e2e_avg_calls, sum(e2e_avg_sum) as e2e_avg_sum
          from call_log_latency_day_slots
          where tenant_id = $5 and day > $6 and day <= 'infinity'
          group by day),
        day_points as materialized (
          select d.day, coalesce(p.calls, f.calls) as calls, coalesce(p.p50_llm, f.p50_llm) as p50_llm,
            coalesce(p.p95_llm, f.p95_llm) as p95_llm, coalesce(p.p99_llm, f.p99_llm) as p99_llm,
            coalesce(p.p50_e2e, f.p50_e2e) as p50_e2e, coalesce(p.p95_e2e, f.p95_e2e) as p95_e2e,
            coalesce(p.p99_e2e, f.p99_e2e) as p99_e2e, coalesce(p.llm_max, f.llm_max) as llm_max,
            coalesce(p.e2e_max, f.e2e_max) as e2e_max
          from days d
          left join call_log_latency_day_points p on p.tenant_id = $7 and p.day = d.day and p.changes = d.changes
          left join lateral call_log_latency_day_point($8, case when p.day is null then d.day end) f on true),
        partial as materialized (
          select call_log_id, started_at, turns, llm_avg, llm_p50, llm_p95, llm_p99, llm_max,
  e2e_avg, e2e_p50, e2e_p95, e2e_p99, e2e_max from call_log_latency
          where tenant_id = $9 and started_at >= $10
            and started_at < date_trunc('day', $11::timestamptz, 'UTC') + interval '1 day'),
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
            (trim_scale((coalesce(r.llm_avg_sum, 0) + coalesce(u.llm_avg_sum, 0))) / nullif((coalesce(r.llm_avg_calls, 0) + u.llm_avg_calls), 0))::float8 as avg_llm_first_token_ms,
            (trim_scale((coalesce(r.e2e_avg_sum, 0) + coalesce(u.e2e_avg_sum, 0))) / nullif((coalesce(r.e2e_avg_calls, 0) + u.e2e_avg_calls), 0))::float8 as avg_e2e_first_audio_ms,
            greatest(r.llm_max, u.llm_max) as max_llm_first_token_ms, greatest(r.e2e_max, u.e2e_max) as max_e2e_first_audio_ms,
            p.*, $12::text as window_name
          from rolled r, partial_totals u, percentiles p),
        points as (
          select day as bucket, calls as call_count, p50_llm as p50_llm_first_token_ms, p95_llm as p95_llm_first_token_ms,
            p99_llm as p99_llm_first_token_ms, p50_e2e as p50_e2e_first_audio_ms, p95_e2e as p95_e2e_first_audio_ms,
            p99_e2e as p99_e2e_first_audio_ms
          from day_points where calls > 0
          union all
          select date_trunc('day', started_at, 'UTC'), count(*), 
  percentile_cont(0.5) within group (order by llm_p50) as p50_llm_first_token_ms,
  percentile_cont(0.95) within group (order by llm_p95) as p95_llm_first_token_ms,
  percentile_cont(0.99) within group (order by llm_p99) as p99_llm_first_token_ms,
  percentile_cont(0.5) within group (order by e2e_p50) as p50_e2e_first_audio_ms,
  percentile_cont(0.95) within group (order by e2e_p95) as p95_e2e_first_audio_ms,
  percentile_cont(0.99) within group (order by e2e_p99) as p99_e2e_first_audio_ms from partial group by 1)
        select (select (select row_to_json(json_fields) from (select avg_e2e_first_audio_ms as "avg_e2e_first_audio_ms", avg_llm_first_token_ms as "avg_llm_first_token_ms", call_sample_count as "call_sample_count", max_e2e_first_audio_ms as "max_e2e_first_audio_ms", max_llm_first_token_ms as "max_llm_first_token_ms", p50_e2e_first_audio_ms as "p50_e2e_first_audio_ms", p50_llm_first_token_ms as "p50_llm_first_token_ms", p95_e2e_first_audio_ms as "p95_e2e_first_audio_ms", p95_llm_first_token_ms as "p95_llm_first_token_ms", p99_e2e_first_audio_ms as "p99_e2e_first_audio_ms", p99_llm_first_token_ms as "p99_llm_first_token_ms", turn_sample_count as "turn_sample_count", window_name as "window") json_fields) from stats)::text as stats,
          (select coalesce('[' || string_agg(((select row_to_json(json_fields) from (select c.call_sid as "call_sid", c.duration_seconds as "duration_seconds", s.e2e_p95 as "e2e_p95_ms", c.id as "id", s.llm_p50 as "llm_p50_ms", s.llm_p95 as "llm_p95_ms", c.model as "model", ssv_iso(c.started_at) as "started_at", c.stream_sid as "stream_sid", s.turns as "turn_count", c.voice as "voice") json_fields))::text, ',' order by s.e2e_p95 desc nulls last, s.llm_p95 desc nulls last, s.started_at desc, s.call_log_id) || ']', '[]')::json
            from (select * from slowest order by e2e_p95 desc nulls last, llm_p95 desc nulls last, started_at desc, call_log_id limit $13) s
            join call_logs c on c.id = s.call_log_id and c.tenant_id = $14)::text as slowest,
          (select coalesce('[' || string_agg(((select row_to_json(json_fields) from (select ssv_iso(bucket) as "bucket_start", call_count as "call_count", p50_e2e_first_audio_ms as "p50_e2e_first_audio_ms", p50_llm_first_token_ms as "p50_llm_first_token_ms", p95_e2e_first_audio_ms as "p95_e2e_first_audio_ms", p95_llm_first_token_ms as "p95_llm_first_token_ms", p99_e2e_first_audio_ms as "p99_e2e_first_audio_ms", p99_llm_first_token_ms as "p99_llm_first_token_ms") json_fields))::text, ',' order by bucket) || ']', '[]')::json from points)::text as points`

export const latencyRollupAll = `with tenant as materialized (select $1::text as id),
        counted as materialized (
          select metric, lo, calls::float8 as calls from call_log_latency_buckets where tenant_id = (select id from tenant) and calls > 0),
        
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
    select metric, position, low, high, case metric when 1 then array(select llm_p50 from call_log_latency
        where tenant_id = (select id from tenant) and llm_p50 >= lo order by llm_p50 offset skip limit 2)
      when 2 then array(select llm_p95 from call_log_latency
        where tenant_id = (select id from tenant) and llm_p95 >= lo order by llm_p95 offset skip limit 2)
      when 3 then array(select llm_p99 from call_log_latency
        where tenant_id = (select id from tenant) and llm_p99 >= lo order by llm_p99 offset skip limit 2)
      when 4 then array(select e2e_p50 from call_log_latency
        where tenant_id = (select id from tenant) and e2e_p50 >= lo order by e2e_p50 offset skip limit 2)
      when 5 then array(select e2e_p95 from call_log_latency
        where tenant_id = (select id from tenant) and e2e_p95 >= lo order by e2e_p95 offset skip limit 2)
      when 6 then array(select e2e_p99 from call_log_latency
        where tenant_id = (select id from tenant) and e2e_p99 >= lo order by e2e_p99 offset skip limit 2) end as probed
    from located),
  percentiles as (
    select max(case when high > low then probed[1] + ((position - low) * (probed[2] - probed[1])) else probed[1] end) filter (where metric = 1) as p50_llm_first_token_ms,
      max(case when high > low then probed[1] + ((position - low) * (probed[2] - probed[1])) else probed[1] end) filter (where metric = 2) as p95_llm_first_token_ms,
      max(case when high > low then probed[1] + ((position - low) * (probed[2] - probed[1])) else probed[1] end) filter (where metric = 3) as p99_llm_first_token_ms,
      max(case when high > low then probed[1] + ((position - low) * (probed[2] - probed[1])) else probed[1] end) filter (where metric = 4) as p50_e2e_first_audio_ms,
      max(case when high > low then probed[1] + ((position - low) * (probed[2] - probed[1])) else probed[1] end) filter (where metric = 5) as p95_e2e_first_audio_ms,
      max(case when high > low then probed[1] + ((position - low) * (probed[2] - probed[1])) else probed[1] end) filter (where metric = 6) as p99_e2e_first_audio_ms
    from picked),
        slowest as (
          select call_log_id, started_at, turns, llm_avg, llm_p50, llm_p95, llm_p99, llm_max,
  e2e_avg, e2e_p50, e2e_p95, e2e_p99, e2e_max from call_log_latency where tenant_id = $2
          order by e2e_p95 desc nulls last, llm_p95 desc nulls last, started_at desc, call_log_id limit 50),
        days as materialized (
          select day, sum(changes)::int8 as changes, sum(calls) as calls, sum(turns) as turns,
            sum(llm_avg_calls) as llm_avg_calls, sum(llm_avg_sum) as llm_avg_sum,
            sum(e2e_avg_calls) as e2e_avg_calls, sum(e2e_avg_sum) as e2e_avg_sum
          from call_log_latency_day_slots
          where tenant_id = $3 and true
          group by day),
        day_points as materialized (
          select d.day, coalesce(p.calls, f.calls) as calls, coalesce(p.p50_llm, f.p50_llm) as p50_llm,
            coalesce(p.p95_llm, f.p95_llm) as p95_llm, coalesce(p.p99_llm, f.p99_llm) as p99_llm,
            coalesce(p.p50_e2e, f.p50_e2e) as p50_e2e, coalesce(p.p95_e2e, f.p95_e2e) as p95_e2e,
            coalesce(p.p99_e2e, f.p99_e2e) as p99_e2e, coalesce(p.llm_max, f.llm_max) as llm_max,
            coalesce(p.e2e_max, f.e2e_max) as e2e_max
          from days d
          left join call_log_latency_day_points p on p.tenant_id = $4 and p.day = d.day and p.changes = d.changes
          left join lateral call_log_latency_day_point($5, case when p.day is null then d.day end) f on true),
        partial as materialized (
          select call_log_id, started_at, turns, llm_avg, llm_p50, llm_p95, llm_p99, llm_max,
  e2e_avg, e2e_p50, e2e_p95, e2e_p99, e2e_max from call_log_latency where false),
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
            (trim_scale((coalesce(r.llm_avg_sum, 0) + coalesce(u.llm_avg_sum, 0))) / nullif((coalesce(r.llm_avg_calls, 0) + u.llm_avg_calls), 0))::float8 as avg_llm_first_token_ms,
            (trim_scale((coalesce(r.e2e_avg_sum, 0) + coalesce(u.e2e_avg_sum, 0))) / nullif((coalesce(r.e2e_avg_calls, 0) + u.e2e_avg_calls), 0))::float8 as avg_e2e_first_audio_ms,
            greatest(r.llm_max, u.llm_max) as max_llm_first_token_ms, greatest(r.e2e_max, u.e2e_max) as max_e2e_first_audio_ms,
            p.*, $6::text as window_name
          from rolled r, partial_totals u, percentiles p),
        points as (
          select day as bucket, calls as call_count, p50_llm as p50_llm_first_token_ms, p95_llm as p95_llm_first_token_ms,
            p99_llm as p99_llm_first_token_ms, p50_e2e as p50_e2e_first_audio_ms, p95_e2e as p95_e2e_first_audio_ms,
            p99_e2e as p99_e2e_first_audio_ms
          from day_points where calls > 0
          union all
          select date_trunc('day', started_at, 'UTC'), count(*), 
  percentile_cont(0.5) within group (order by llm_p50) as p50_llm_first_token_ms,
  percentile_cont(0.95) within group (order by llm_p95) as p95_llm_first_token_ms,
  percentile_cont(0.99) within group (order by llm_p99) as p99_llm_first_token_ms,
  percentile_cont(0.5) within group (order by e2e_p50) as p50_e2e_first_audio_ms,
  percentile_cont(0.95) within group (order by e2e_p95) as p95_e2e_first_audio_ms,
  percentile_cont(0.99) within group (order by e2e_p99) as p99_e2e_first_audio_ms from partial group by 1)
        select (select (select row_to_json(json_fields) from (select avg_e2e_first_audio_ms as "avg_e2e_first_audio_ms", avg_llm_first_token_ms as "avg_llm_first_token_ms", call_sample_count as "call_sample_count", max_e2e_first_audio_ms as "max_e2e_first_audio_ms", max_llm_first_token_ms as "max_llm_first_token_ms", p50_e2e_first_audio_ms as "p50_e2e_first_audio_ms", p50_llm_first_token_ms as "p50_llm_first_token_ms", p95_e2e_first_audio_ms as "p95_e2e_first_audio_ms", p95_llm_first_token_ms as "p95_llm_first_token_ms", p99_e2e_first_audio_ms as "p99_e2e_first_audio_ms", p99_llm_first_token_ms as "p99_llm_first_token_ms", turn_sample_count as "turn_sample_count", window_name as "window") json_fields) from stats)::text as stats,
          (select coalesce('[' || string_agg(((select row_to_json(json_fields) from (select c.call_sid as "call_sid", c.duration_seconds as "duration_seconds", s.e2e_p95 as "e2e_p95_ms", c.id as "id", s.llm_p50 as "llm_p50_ms", s.llm_p95 as "llm_p95_ms", c.model as "model", ssv_iso(c.started_at) as "started_at", c.stream_sid as "stream_sid", s.turns as "turn_count", c.voice as "voice") json_fields))::text, ',' order by s.e2e_p95 desc nulls last, s.llm_p95 desc nulls last, s.started_at desc, s.call_log_id) || ']', '[]')::json
            from (select * from slowest order by e2e_p95 desc nulls last, llm_p95 desc nulls last, started_at desc, call_log_id limit $7) s
            join call_logs c on c.id = s.call_log_id and c.tenant_id = $8)::text as slowest,
          (select coalesce('[' || string_agg(((select row_to_json(json_fields) from (select ssv_iso(bucket) as "bucket_start", call_count as "call_count", p50_e2e_first_audio_ms as "p50_e2e_first_audio_ms", p50_llm_first_token_ms as "p50_llm_first_token_ms", p95_e2e_first_audio_ms as "p95_e2e_first_audio_ms", p95_llm_first_token_ms as "p95_llm_first_token_ms", p99_e2e_first_audio_ms as "p99_e2e_first_audio_ms", p99_llm_first_token_ms as "p99_llm_first_token_ms") json_fields))::text, ',' order by bucket) || ']', '[]')::json from points)::text as points`
