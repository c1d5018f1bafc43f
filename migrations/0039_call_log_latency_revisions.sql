-- A revision of each tenant's latency report (issue 13, item 3): the per-replica cache of
-- call-logs/latency (CallLogs/LatencyReportCache.ts) keeps a report while its tenant's revision
-- is the one it was computed at, checked on every request with one cheap read.
--
-- The report reads call_log_latency (and the rollups kept from it in the same transaction) and,
-- for its slowest calls, call_sid, stream_sid, model, voice and duration_seconds from call_logs.
-- So the revision moves with every change of a call_log_latency row (insert, a record rewritten,
-- a start moved, a late call, a delete, also the tenant's cascade; 0036's trigger, through
-- call_log_latency_days_apply) and with a change of those columns of a call that has turns
-- (a status callback after the record sets its duration) which leaves call_log_latency as it was.
--
-- Spread over the writer's slot (0032's ssv_rollup_slot), as the day slots are: two writers of a
-- tenant on different connections do not wait on one row. Readers sum the tenant's slots (16 at
-- most). Every write adds 1 and no row is ever deleted (no foreign key: a tenant deleted and made
-- again keeps counting up), so a tenant's sum never comes back to a value it had: equal sums,
-- read in order, mean the same rows. TRUNCATE, which drops rows without row triggers, adds 1 to
-- every tenant's revision.

create table call_log_latency_revisions (
  tenant_id text not null,
  slot smallint not null,
  revision int8 not null,
  primary key (tenant_id, slot)
);

-- 0037's delta, also counting the revision of the tenant(s) of the row taken away and added (a
-- call moved between tenants moves both). The revision is the last row each writer locks, after
-- the buckets and days: the order every writer of the rollups keeps.
create or replace function call_log_latency_days_apply(old_row call_log_latency, new_row call_log_latency) returns void
language plpgsql as $$
begin
  with changed as (
    select c.r, c.sign, date_trunc('day', (c.r).started_at, 'UTC') as day
    from (values (old_row, -1), (new_row, 1)) c (r, sign)
    where (c.r).call_log_id is not null),
  days as (
    insert into call_log_latency_day_slots as d
    select (r).tenant_id, day, ssv_rollup_slot(), sum(sign), sum(sign * (r).turns),
      sum(sign * ((r).llm_avg is not null)::int), coalesce(sum(sign * (r).llm_avg::numeric), 0),
      sum(sign * ((r).e2e_avg is not null)::int), coalesce(sum(sign * (r).e2e_avg::numeric), 0), count(*)
    from changed group by 1, 2 order by 1, 2
    on conflict (tenant_id, day, slot) do update set calls = d.calls + excluded.calls,
      turns = d.turns + excluded.turns, llm_avg_calls = d.llm_avg_calls + excluded.llm_avg_calls,
      llm_avg_sum = d.llm_avg_sum + excluded.llm_avg_sum, e2e_avg_calls = d.e2e_avg_calls + excluded.e2e_avg_calls,
      e2e_avg_sum = d.e2e_avg_sum + excluded.e2e_avg_sum, changes = d.changes + excluded.changes
    returning 1),
  revisions as (
    insert into call_log_latency_revisions as v
    select distinct (r).tenant_id, ssv_rollup_slot(), 1::int8 from changed order by 1
    on conflict (tenant_id, slot) do update set revision = v.revision + 1
    returning 1)
  insert into call_log_latency_buckets as b
  select (c.r).tenant_id, m.metric, call_log_latency_bucket(m.value), sum(c.sign)
  from changed c, lateral call_log_latency_metrics(c.r) m
  group by 1, 2, 3 having sum(c.sign) <> 0 order by 1, 2, 3
  on conflict (tenant_id, metric, lo) do update set calls = b.calls + excluded.calls;
end $$;

-- A slowest call's columns changed with its numbers unchanged (no call_log_latency write).
create function call_log_latency_sample_changed() returns trigger language plpgsql as $$
begin
  insert into call_log_latency_revisions as v values (new.tenant_id, ssv_rollup_slot(), 1)
  on conflict (tenant_id, slot) do update set revision = v.revision + 1;
  return null;
end $$;

-- Named to fire after call_log_latency_update (triggers fire in name order), so a record that
-- changes both locks the rollups before the revision, as every other writer does. The columns
-- listed are what the sampled ones are generated from (duration_seconds: 0004).
create trigger call_log_latency_update_sample
  after update of call_sid, stream_sid, model, voice, twilio_duration_seconds, media_started_at, media_ended_at on call_logs
  for each row when (call_log_latency_turns(new.turn_latency_stats) > 0
    and (old.call_sid, old.stream_sid, old.model, old.voice, old.duration_seconds)
      is distinct from (new.call_sid, new.stream_sid, new.model, new.voice, new.duration_seconds))
  execute function call_log_latency_sample_changed();

create function call_log_latency_revisions_truncate() returns trigger language plpgsql as $$
begin
  update call_log_latency_revisions set revision = revision + 1;
  return null;
end $$;

create trigger call_log_latency_revisions_truncate after truncate on call_log_latency
  for each statement execute function call_log_latency_revisions_truncate();
