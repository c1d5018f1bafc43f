-- Rollup rows spread over slots (issue 11, "what a burst meets after many calls", item 1), and
-- the admission count's ledger probe through an index (item 2).
--
-- 1. Every call-log write of a tenant upserted the same two rollup rows (migration 0010): the
--    tenant's all-time row (hour '-infinity') and the hour's row, and held them until commit.
--    So a second call's first sighting (inside the admission, under the tenant's advisory lock)
--    waited for the first call's record to commit: a tenant's set-ups were bounded by its record
--    rate and one fsync per write. Outcomes and session evaluations have the same rows.
--    As in migration 0031: each connection writes the slot of its backend (pid mod 16), so two
--    transactions on different connections touch different rows unless their pids are congruent
--    mod 16; readers sum the slots (they already summed rows: the reads are unchanged). Within a
--    transaction the slot is fixed, so the lock order of 0010 (all-time row first) still holds.
--    Existing rows become slot 0 (column default, no rewrite).
create function ssv_rollup_slot() returns smallint language sql stable
  return (pg_backend_pid() % 16)::smallint;

alter table call_log_hourly add column slot smallint not null default 0;
alter table call_log_hourly drop constraint call_log_hourly_pkey;
alter table call_log_hourly add primary key (tenant_id, hour, slot);

create or replace function call_log_hourly_upsert(r call_logs, sign integer, bucket timestamptz) returns void language sql as $$
  insert into call_log_hourly as h values (r.tenant_id, bucket, sign,
    sign * (r.status = 'completed')::int, sign * r.escalated::int, sign * (r.status = 'failed')::int,
    sign * coalesce(r.outcome = 'answered', false)::int, sign * coalesce(r.outcome = 'voicemail', false)::int,
    sign * coalesce(r.outcome = 'no_answer', false)::int, sign * coalesce(r.outcome = 'busy', false)::int,
    sign * coalesce(r.outcome = 'failed', false)::int, sign * (r.outcome is not null)::int,
    sign * coalesce(r.duration_seconds, 0), sign * (r.duration_seconds is not null)::int, ssv_rollup_slot())
  on conflict (tenant_id, hour, slot) do update set total = h.total + excluded.total,
    completed = h.completed + excluded.completed, escalated = h.escalated + excluded.escalated,
    failed = h.failed + excluded.failed, answered = h.answered + excluded.answered,
    voicemail = h.voicemail + excluded.voicemail, no_answer = h.no_answer + excluded.no_answer,
    busy = h.busy + excluded.busy, failed_outcome = h.failed_outcome + excluded.failed_outcome,
    outcome_calls = h.outcome_calls + excluded.outcome_calls, duration_sum = h.duration_sum + excluded.duration_sum,
    duration_count = h.duration_count + excluded.duration_count
$$;

alter table voice_outcome_hourly add column slot smallint not null default 0;
alter table voice_outcome_hourly drop constraint voice_outcome_hourly_pkey;
alter table voice_outcome_hourly add primary key (tenant_id, hour, slot);
alter table voice_outcome_hourly_mix add column slot smallint not null default 0;
alter table voice_outcome_hourly_mix drop constraint voice_outcome_hourly_mix_pkey;
alter table voice_outcome_hourly_mix add primary key (tenant_id, hour, dimension, value, slot);

create or replace function voice_outcome_hourly_add(r voice_outcomes, sign integer) returns void language sql as $$
  insert into voice_outcome_hourly as h values (r.tenant_id, date_trunc('hour', r.occurred_at, 'UTC'), sign,
    sign * (r.billing_status <> 'not_billable')::int, sign * (r.billing_status = 'not_billable')::int,
    sign * (r.billing_status = 'pending_emit')::int, sign * (r.billing_status = 'emitted')::int,
    sign * (r.billing_status in ('failed', 'failed_billing'))::int, sign * r.escalated::int,
    sign * coalesce(r.duration_seconds, 0), sign * (r.duration_seconds is not null)::int, ssv_rollup_slot())
  on conflict (tenant_id, hour, slot) do update set total = h.total + excluded.total,
    billable = h.billable + excluded.billable, not_billable = h.not_billable + excluded.not_billable,
    pending_emit = h.pending_emit + excluded.pending_emit, emitted = h.emitted + excluded.emitted,
    failed_billing = h.failed_billing + excluded.failed_billing, escalated = h.escalated + excluded.escalated,
    duration_sum = h.duration_sum + excluded.duration_sum, duration_count = h.duration_count + excluded.duration_count;
  insert into voice_outcome_hourly_mix as m
  select r.tenant_id, date_trunc('hour', r.occurred_at, 'UTC'), d.dimension, d.value, sign, ssv_rollup_slot()
  from (values ('resolution', r.resolution), ('billing_status', r.billing_status), ('billable_sku', r.billable_sku),
    ('risk_level', r.risk_level)) d (dimension, value)
  where d.value is not null
  on conflict (tenant_id, hour, dimension, value, slot) do update set n = m.n + excluded.n
$$;

alter table voice_session_eval_hourly add column slot smallint not null default 0;
alter table voice_session_eval_hourly drop constraint voice_session_eval_hourly_pkey;
alter table voice_session_eval_hourly add primary key (tenant_id, hour, slot);

create or replace function voice_session_eval_hourly_add(r voice_session_evals, sign integer) returns void language sql as $$
  insert into voice_session_eval_hourly as h
  select r.tenant_id, bucket, sign, sign * r.score::numeric, sign * (r.score >= 0.8)::int, ssv_rollup_slot()
  from (values ('-infinity'::timestamptz), (date_trunc('hour', r.created_at, 'UTC'))) b (bucket)
  on conflict (tenant_id, hour, slot) do update set n = h.n + excluded.n, score_sum = h.score_sum + excluded.score_sum,
    high_quality = h.high_quality + excluded.high_quality
$$;

-- 2. call_counts (migration 0020) probes the ledger for each admission of the last 90 s by
--    (tenant_id, call_sid); without this index each probe read the tenant's whole ledger.
create index live_calls_tenant_call_sid_idx on live_calls (tenant_id, call_sid);
analyze live_calls;
