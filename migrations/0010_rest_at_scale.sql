-- REST at scale (issue 13): rows rendered as JSON by PostgreSQL for list pages, rollups that
-- answer statistics without scanning history, and trigram indexes for transcript search.

-- A timestamp as the API writes it (JavaScript's Date#toISOString: UTC, milliseconds
-- truncated, "Z"), so JSON built here is the same text the service would have written.
create function ssv_iso(ts timestamptz) returns text
  language sql stable parallel safe
  return to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');

-- Rollups: per tenant and UTC hour, maintained by triggers in the transaction that writes the
-- source row, so they are exact at every commit (no lag, nothing to sweep, any number of
-- replicas). An update moves a row's contribution (subtract the old row, add the new), so late
-- calls and calls updated after they end land in the right hour. A statistic over [a, b) reads
-- the whole hours inside it from the rollup and the partial hours at its edges from the table
-- (see ssv_hours). Writes of one tenant in one hour share a rollup row: its lock is held until
-- the writing transaction commits (the call-record transactions are short).

-- The whole hours inside [a, b): [lo, hi), empty when lo >= hi; edges [a, lo) and [hi, b) are raw.
create function ssv_hour_ceil(ts timestamptz) returns timestamptz
  language sql immutable parallel safe
  return case when date_trunc('hour', ts, 'UTC') = ts then ts else date_trunc('hour', ts, 'UTC') + interval '1 hour' end;

-- Writes are blocked while the rollups are built from existing rows.
lock table call_logs, voice_outcomes, voice_session_evals, voice_sessions in share row exclusive mode;

-- call logs (GET /call-logs/stats) --------------------------------------------------------------
create table call_log_hourly (
  tenant_id text not null,
  hour timestamptz not null,
  total bigint not null,
  completed bigint not null,
  escalated bigint not null,
  failed bigint not null,
  answered bigint not null,
  voicemail bigint not null,
  no_answer bigint not null,
  busy bigint not null,
  failed_outcome bigint not null,
  outcome_calls bigint not null,
  duration_sum bigint not null,
  duration_count bigint not null,
  primary key (tenant_id, hour)
);
-- The row at hour '-infinity' holds the tenant's all-time totals (what /stats reads in one row).

create function call_log_hourly_upsert(r call_logs, sign integer, bucket timestamptz) returns void language sql as $$
  insert into call_log_hourly as h values (r.tenant_id, bucket, sign,
    sign * (r.status = 'completed')::int, sign * r.escalated::int, sign * (r.status = 'failed')::int,
    sign * coalesce(r.outcome = 'answered', false)::int, sign * coalesce(r.outcome = 'voicemail', false)::int,
    sign * coalesce(r.outcome = 'no_answer', false)::int, sign * coalesce(r.outcome = 'busy', false)::int,
    sign * coalesce(r.outcome = 'failed', false)::int, sign * (r.outcome is not null)::int,
    sign * coalesce(r.duration_seconds, 0), sign * (r.duration_seconds is not null)::int)
  on conflict (tenant_id, hour) do update set total = h.total + excluded.total,
    completed = h.completed + excluded.completed, escalated = h.escalated + excluded.escalated,
    failed = h.failed + excluded.failed, answered = h.answered + excluded.answered,
    voicemail = h.voicemail + excluded.voicemail, no_answer = h.no_answer + excluded.no_answer,
    busy = h.busy + excluded.busy, failed_outcome = h.failed_outcome + excluded.failed_outcome,
    outcome_calls = h.outcome_calls + excluded.outcome_calls, duration_sum = h.duration_sum + excluded.duration_sum,
    duration_count = h.duration_count + excluded.duration_count
$$;

-- The all-time row first: every writer of a tenant takes it before any hour row, so two
-- transactions writing calls of several hours cannot lock each other's rows in opposite order.
create function call_log_hourly_add(r call_logs, sign integer) returns void language sql as $$
  select call_log_hourly_upsert(r, sign, '-infinity');
  select call_log_hourly_upsert(r, sign, date_trunc('hour', r.started_at, 'UTC'));
$$;

create function call_log_hourly_trigger() returns trigger language plpgsql as $$
begin
  if tg_op <> 'INSERT' then perform call_log_hourly_add(old, -1); end if;
  if tg_op <> 'DELETE' then perform call_log_hourly_add(new, 1); end if;
  return null;
end $$;

create trigger call_log_hourly_insert after insert on call_logs for each row execute function call_log_hourly_trigger();
create trigger call_log_hourly_delete after delete on call_logs for each row execute function call_log_hourly_trigger();
-- Transcript and other updates that change no counted column do not touch the rollup.
create trigger call_log_hourly_update after update on call_logs for each row
  when ((old.tenant_id, old.started_at, old.status, old.outcome, old.escalated, old.duration_seconds)
    is distinct from (new.tenant_id, new.started_at, new.status, new.outcome, new.escalated, new.duration_seconds))
  execute function call_log_hourly_trigger();

insert into call_log_hourly
select tenant_id, date_trunc('hour', started_at, 'UTC'), count(*), count(*) filter (where status = 'completed'),
  count(*) filter (where escalated), count(*) filter (where status = 'failed'),
  count(*) filter (where outcome = 'answered'), count(*) filter (where outcome = 'voicemail'),
  count(*) filter (where outcome = 'no_answer'), count(*) filter (where outcome = 'busy'),
  count(*) filter (where outcome = 'failed'), count(*) filter (where outcome is not null),
  coalesce(sum(duration_seconds), 0), count(duration_seconds)
from call_logs group by 1, 2;
insert into call_log_hourly
select tenant_id, '-infinity', sum(total), sum(completed), sum(escalated), sum(failed), sum(answered), sum(voicemail),
  sum(no_answer), sum(busy), sum(failed_outcome), sum(outcome_calls), sum(duration_sum), sum(duration_count)
from call_log_hourly group by 1;

-- voice outcomes (GET /voice-outcomes/stats and /timeseries) -------------------------------------
create table voice_outcome_hourly (
  tenant_id text not null,
  hour timestamptz not null,
  total bigint not null,
  billable bigint not null,
  not_billable bigint not null,
  pending_emit bigint not null,
  emitted bigint not null,
  failed_billing bigint not null,
  escalated bigint not null,
  duration_sum bigint not null,
  duration_count bigint not null,
  primary key (tenant_id, hour)
);

-- The mixes: how many outcomes of the hour have each value of a dimension.
create table voice_outcome_hourly_mix (
  tenant_id text not null,
  hour timestamptz not null,
  dimension text not null,
  value text not null,
  n bigint not null,
  primary key (tenant_id, hour, dimension, value)
);

create function voice_outcome_hourly_add(r voice_outcomes, sign integer) returns void language sql as $$
  insert into voice_outcome_hourly as h values (r.tenant_id, date_trunc('hour', r.occurred_at, 'UTC'), sign,
    sign * (r.billing_status <> 'not_billable')::int, sign * (r.billing_status = 'not_billable')::int,
    sign * (r.billing_status = 'pending_emit')::int, sign * (r.billing_status = 'emitted')::int,
    sign * (r.billing_status in ('failed', 'failed_billing'))::int, sign * r.escalated::int,
    sign * coalesce(r.duration_seconds, 0), sign * (r.duration_seconds is not null)::int)
  on conflict (tenant_id, hour) do update set total = h.total + excluded.total,
    billable = h.billable + excluded.billable, not_billable = h.not_billable + excluded.not_billable,
    pending_emit = h.pending_emit + excluded.pending_emit, emitted = h.emitted + excluded.emitted,
    failed_billing = h.failed_billing + excluded.failed_billing, escalated = h.escalated + excluded.escalated,
    duration_sum = h.duration_sum + excluded.duration_sum, duration_count = h.duration_count + excluded.duration_count;
  insert into voice_outcome_hourly_mix as m
  select r.tenant_id, date_trunc('hour', r.occurred_at, 'UTC'), d.dimension, d.value, sign
  from (values ('resolution', r.resolution), ('billing_status', r.billing_status), ('billable_sku', r.billable_sku),
    ('risk_level', r.risk_level)) d (dimension, value)
  where d.value is not null
  on conflict (tenant_id, hour, dimension, value) do update set n = m.n + excluded.n
$$;

create function voice_outcome_hourly_trigger() returns trigger language plpgsql as $$
begin
  if tg_op <> 'INSERT' then perform voice_outcome_hourly_add(old, -1); end if;
  if tg_op <> 'DELETE' then perform voice_outcome_hourly_add(new, 1); end if;
  return null;
end $$;

create trigger voice_outcome_hourly_insert after insert on voice_outcomes for each row execute function voice_outcome_hourly_trigger();
create trigger voice_outcome_hourly_delete after delete on voice_outcomes for each row execute function voice_outcome_hourly_trigger();
create trigger voice_outcome_hourly_update after update on voice_outcomes for each row
  when ((old.tenant_id, old.occurred_at, old.billing_status, old.escalated, old.duration_seconds, old.resolution,
      old.billable_sku, old.risk_level)
    is distinct from (new.tenant_id, new.occurred_at, new.billing_status, new.escalated, new.duration_seconds,
      new.resolution, new.billable_sku, new.risk_level))
  execute function voice_outcome_hourly_trigger();

insert into voice_outcome_hourly
select tenant_id, date_trunc('hour', occurred_at, 'UTC'), count(*), count(*) filter (where billing_status <> 'not_billable'),
  count(*) filter (where billing_status = 'not_billable'), count(*) filter (where billing_status = 'pending_emit'),
  count(*) filter (where billing_status = 'emitted'), count(*) filter (where billing_status in ('failed', 'failed_billing')),
  count(*) filter (where escalated), coalesce(sum(duration_seconds), 0), count(duration_seconds)
from voice_outcomes group by 1, 2;

insert into voice_outcome_hourly_mix
select o.tenant_id, date_trunc('hour', o.occurred_at, 'UTC'), d.dimension, d.value, count(*)
from voice_outcomes o, lateral (values ('resolution', o.resolution), ('billing_status', o.billing_status),
  ('billable_sku', o.billable_sku), ('risk_level', o.risk_level)) d (dimension, value)
where d.value is not null group by 1, 2, 3, 4;

-- session evaluations (GET /voice-session-evals/stats) ------------------------------------------
-- high_quality counts scores >= 0.8: HIGH_QUALITY_SCORE in src/VoiceEvals/Repo.ts.
create table voice_session_eval_hourly (
  tenant_id text not null,
  hour timestamptz not null,
  n bigint not null,
  score_sum numeric not null,
  high_quality bigint not null,
  primary key (tenant_id, hour)
);

-- As for call logs, the row at hour '-infinity' holds the all-time totals.
create function voice_session_eval_hourly_add(r voice_session_evals, sign integer) returns void language sql as $$
  insert into voice_session_eval_hourly as h
  select r.tenant_id, bucket, sign, sign * r.score::numeric, sign * (r.score >= 0.8)::int
  from (values ('-infinity'::timestamptz), (date_trunc('hour', r.created_at, 'UTC'))) b (bucket)
  on conflict (tenant_id, hour) do update set n = h.n + excluded.n, score_sum = h.score_sum + excluded.score_sum,
    high_quality = h.high_quality + excluded.high_quality
$$;

create function voice_session_eval_hourly_trigger() returns trigger language plpgsql as $$
begin
  if tg_op <> 'INSERT' then perform voice_session_eval_hourly_add(old, -1); end if;
  if tg_op <> 'DELETE' then perform voice_session_eval_hourly_add(new, 1); end if;
  return null;
end $$;

create trigger voice_session_eval_hourly_insert after insert on voice_session_evals for each row execute function voice_session_eval_hourly_trigger();
create trigger voice_session_eval_hourly_delete after delete on voice_session_evals for each row execute function voice_session_eval_hourly_trigger();
create trigger voice_session_eval_hourly_update after update on voice_session_evals for each row
  when ((old.tenant_id, old.created_at, old.score) is distinct from (new.tenant_id, new.created_at, new.score))
  execute function voice_session_eval_hourly_trigger();

insert into voice_session_eval_hourly
select tenant_id, date_trunc('hour', created_at, 'UTC'), count(*), coalesce(sum(score::numeric), 0),
  count(*) filter (where score >= 0.8)
from voice_session_evals group by 1, 2;
insert into voice_session_eval_hourly
select tenant_id, '-infinity', sum(n), sum(score_sum), sum(high_quality) from voice_session_eval_hourly group by 1;

-- voice sessions: the list's total count per status (GET /voice-sessions without a search or date)
create table voice_session_counts (
  tenant_id text not null,
  status text not null,
  n bigint not null,
  primary key (tenant_id, status)
);

create function voice_session_counts_trigger() returns trigger language plpgsql as $$
begin
  if tg_op <> 'INSERT' then
    update voice_session_counts set n = n - 1 where tenant_id = old.tenant_id and status = old.status;
  end if;
  if tg_op <> 'DELETE' then
    insert into voice_session_counts as c values (new.tenant_id, new.status, 1)
    on conflict (tenant_id, status) do update set n = c.n + 1;
  end if;
  return null;
end $$;

create trigger voice_session_counts_insert after insert on voice_sessions for each row execute function voice_session_counts_trigger();
create trigger voice_session_counts_delete after delete on voice_sessions for each row execute function voice_session_counts_trigger();
create trigger voice_session_counts_update after update on voice_sessions for each row
  when ((old.tenant_id, old.status) is distinct from (new.tenant_id, new.status))
  execute function voice_session_counts_trigger();

insert into voice_session_counts select tenant_id, status, count(*) from voice_sessions group by 1, 2;

-- Transcript search: the API's search is a case-insensitive substring match (ILIKE '%text%'),
-- phone fragments and literal characters included, so a trigram index serves the very same
-- queries without changing any answer (full-text search would match words and stems instead).
-- pg_trgm ships with PostgreSQL and is a trusted extension (a database owner may create it).
create extension if not exists pg_trgm;
create index call_logs_transcript_trgm_idx on call_logs using gin (transcript_text gin_trgm_ops);
create index voice_sessions_transcript_trgm_idx on voice_sessions using gin ((transcript::text) gin_trgm_ops);
create index voice_sessions_summary_trgm_idx on voice_sessions using gin (summary gin_trgm_ops);
create index voice_sessions_customer_phone_trgm_idx on voice_sessions using gin (customer_phone gin_trgm_ops);
create index voice_sessions_agent_name_trgm_idx on voice_sessions using gin (agent_name gin_trgm_ops);
