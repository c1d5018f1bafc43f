-- PostgreSQL's CPU per call (issue 11 item 1): an index the analysis needs, and the hourly rollups
-- written once per change instead of taken out and put back (bench/RESULTS.md, stop 34, pgcall).
--
-- 1. The call's analysis classifies its outcome by session (`update voice_outcomes ... where
--    tenant_id = $1 and voice_session_id = $2`, CallAnalysis/Records.ts), and no index led there:
--    every analysis read all of the tenant's outcomes (at 100,000 of them 18-22 ms per call warm, growing
--    with each call). Deleting a session (its outcomes' foreign key, on delete set null) read them
--    all too. Partial: an outcome without a session is never looked up by it.
create index voice_outcomes_session_idx on voice_outcomes (voice_session_id) where voice_session_id is not null;

-- 2. An update of a call log (the record after the webhook's sighting) or of an outcome (the
--    analysis's risk level after the record) took the old row's counts out of its buckets and put
--    the new row's back in: four upserts of call_log_hourly, and two of voice_outcome_hourly plus up
--    to eight of its mix. When the row stays in its tenant and hour, the same sums come from one
--    upsert per bucket of the differences, and none where nothing counted changed (an outcome's
--    risk level moves one mix value, not the hour's totals). Every reader sums a bucket's slots,
--    so the answers are the same; a row that moves tenant or hour still goes out and back in.

create or replace function call_log_hourly_change(o call_logs, n call_logs, bucket timestamptz) returns void
language plpgsql as $$
begin
  insert into call_log_hourly as h values (n.tenant_id, bucket, 0,
    (n.status = 'completed')::int - (o.status = 'completed')::int, n.escalated::int - o.escalated::int,
    (n.status = 'failed')::int - (o.status = 'failed')::int,
    coalesce(n.outcome = 'answered', false)::int - coalesce(o.outcome = 'answered', false)::int,
    coalesce(n.outcome = 'voicemail', false)::int - coalesce(o.outcome = 'voicemail', false)::int,
    coalesce(n.outcome = 'no_answer', false)::int - coalesce(o.outcome = 'no_answer', false)::int,
    coalesce(n.outcome = 'busy', false)::int - coalesce(o.outcome = 'busy', false)::int,
    coalesce(n.outcome = 'failed', false)::int - coalesce(o.outcome = 'failed', false)::int,
    (n.outcome is not null)::int - (o.outcome is not null)::int,
    coalesce(n.duration_seconds, 0) - coalesce(o.duration_seconds, 0),
    (n.duration_seconds is not null)::int - (o.duration_seconds is not null)::int, ssv_rollup_slot())
  on conflict (tenant_id, hour, slot) do update set total = h.total + excluded.total,
    completed = h.completed + excluded.completed, escalated = h.escalated + excluded.escalated,
    failed = h.failed + excluded.failed, answered = h.answered + excluded.answered,
    voicemail = h.voicemail + excluded.voicemail, no_answer = h.no_answer + excluded.no_answer,
    busy = h.busy + excluded.busy, failed_outcome = h.failed_outcome + excluded.failed_outcome,
    outcome_calls = h.outcome_calls + excluded.outcome_calls, duration_sum = h.duration_sum + excluded.duration_sum,
    duration_count = h.duration_count + excluded.duration_count;
end
$$;

create or replace function call_log_hourly_trigger() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' and old.tenant_id = new.tenant_id then
    perform call_log_hourly_change(old, new, '-infinity');
    if date_trunc('hour', old.started_at, 'UTC') = date_trunc('hour', new.started_at, 'UTC') then
      perform call_log_hourly_change(old, new, date_trunc('hour', new.started_at, 'UTC'));
    else
      perform call_log_hourly_upsert(old, -1, date_trunc('hour', old.started_at, 'UTC'));
      perform call_log_hourly_upsert(new, 1, date_trunc('hour', new.started_at, 'UTC'));
    end if;
    return null;
  end if;
  if tg_op <> 'INSERT' then perform call_log_hourly_add(old, -1); end if;
  if tg_op <> 'DELETE' then perform call_log_hourly_add(new, 1); end if;
  return null;
end $$;

create or replace function voice_outcome_hourly_change(o voice_outcomes, n voice_outcomes) returns void
language plpgsql as $$
declare
  bucket timestamptz := date_trunc('hour', n.occurred_at, 'UTC');
begin
  if o.billing_status is distinct from n.billing_status or o.escalated is distinct from n.escalated
     or o.duration_seconds is distinct from n.duration_seconds then
    insert into voice_outcome_hourly as h values (n.tenant_id, bucket, 0,
      (n.billing_status <> 'not_billable')::int - (o.billing_status <> 'not_billable')::int,
      (n.billing_status = 'not_billable')::int - (o.billing_status = 'not_billable')::int,
      (n.billing_status = 'pending_emit')::int - (o.billing_status = 'pending_emit')::int,
      (n.billing_status = 'emitted')::int - (o.billing_status = 'emitted')::int,
      (n.billing_status in ('failed', 'failed_billing'))::int - (o.billing_status in ('failed', 'failed_billing'))::int,
      n.escalated::int - o.escalated::int,
      coalesce(n.duration_seconds, 0) - coalesce(o.duration_seconds, 0),
      (n.duration_seconds is not null)::int - (o.duration_seconds is not null)::int, ssv_rollup_slot())
    on conflict (tenant_id, hour, slot) do update set total = h.total + excluded.total,
      billable = h.billable + excluded.billable, not_billable = h.not_billable + excluded.not_billable,
      pending_emit = h.pending_emit + excluded.pending_emit, emitted = h.emitted + excluded.emitted,
      failed_billing = h.failed_billing + excluded.failed_billing, escalated = h.escalated + excluded.escalated,
      duration_sum = h.duration_sum + excluded.duration_sum, duration_count = h.duration_count + excluded.duration_count;
  end if;
  -- Each dimension whose value changed: one out of the old value, one into the new (a null counts nowhere).
  insert into voice_outcome_hourly_mix as m
  select n.tenant_id, bucket, d.dimension, d.value, d.n, ssv_rollup_slot()
  from (values ('resolution', o.resolution, n.resolution), ('billing_status', o.billing_status, n.billing_status),
    ('billable_sku', o.billable_sku, n.billable_sku), ('risk_level', o.risk_level, n.risk_level)) c (dimension, was, now),
    lateral (values (c.dimension, c.was, -1), (c.dimension, c.now, 1)) d (dimension, value, n)
  where c.was is distinct from c.now and d.value is not null
  on conflict (tenant_id, hour, dimension, value, slot) do update set n = m.n + excluded.n;
end
$$;

create or replace function voice_outcome_hourly_trigger() returns trigger language plpgsql as $$
begin
  if tg_op = 'UPDATE' and old.tenant_id = new.tenant_id
     and date_trunc('hour', old.occurred_at, 'UTC') = date_trunc('hour', new.occurred_at, 'UTC') then
    perform voice_outcome_hourly_change(old, new);
    return null;
  end if;
  if tg_op <> 'INSERT' then perform voice_outcome_hourly_add(old, -1); end if;
  if tg_op <> 'DELETE' then perform voice_outcome_hourly_add(new, 1); end if;
  return null;
end $$;
