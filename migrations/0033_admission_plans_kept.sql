-- The admission's functions planned once per connection, not once per call (issue 11: call set-up).
--
-- `call_counts` (0020) and `call_log_seen` (0028) were SQL-language functions that cannot be
-- inlined (a record result; an INSERT), and PostgreSQL before 18 plans such a function's query
-- again at every call: every inbound admission (admit_inbound_call, admit_inbound_call_seen)
-- planned the count's four-way query and the sighting's upsert while holding its tenant's
-- advisory lock; so did the rollup functions its sighting's insert triggers (below). As PL/pgSQL
-- their plans are kept by the connection (bench/admission-cpu.ts: backend CPU per admission
-- 5.1-6.0 -> 2.1-2.3 ms on a loaded box). Same statements, same results, same signatures.
create or replace function call_counts(p_tenant text, p_replica text, p_cutoff timestamptz, out tenant integer, out replica integer)
language plpgsql stable as $$
begin
  with live as (
    select tenant_id, replica_id from live_calls where tenant_id = p_tenant or replica_id = p_replica
  ), pending as (
    select a.tenant_id, a.replica_id from call_admissions a
    where (a.tenant_id = p_tenant or a.replica_id = p_replica) and a.admitted_at > p_cutoff
      and (a.call_sid is null or (
        not exists (select 1 from live_calls l where l.tenant_id = a.tenant_id and l.call_sid = a.call_sid)
        and not exists (select 1 from call_logs c where c.tenant_id = a.tenant_id and c.call_sid = a.call_sid
          and (c.media_started_at is not null or c.twilio_ended_at is not null))))
  ), every as (select * from live union all select * from pending)
  select (count(*) filter (where every.tenant_id = p_tenant))::int, (count(*) filter (where every.replica_id = p_replica))::int
  into tenant, replica
  from every;
end
$$;

create or replace function call_log_seen(
  p_id uuid, p_tenant text, p_call_sid text, p_direction text, p_from text, p_to text,
  p_agent_version_id uuid, p_twilio_status text, p_at timestamptz
) returns boolean language plpgsql volatile as $$
declare
  inserted boolean;
begin
  insert into call_logs (id, tenant_id, call_sid, direction, from_number, to_number, agent_version_id,
                         twilio_status, first_seen_at)
  values (p_id, p_tenant, p_call_sid, p_direction, p_from, p_to, p_agent_version_id, p_twilio_status, p_at)
  on conflict (tenant_id, call_sid) where call_sid is not null do update set
    from_number = coalesce(call_logs.from_number, excluded.from_number),
    to_number = coalesce(call_logs.to_number, excluded.to_number),
    agent_version_id = coalesce(excluded.agent_version_id, call_logs.agent_version_id),
    twilio_status = case
      when twilio_status_rank(excluded.twilio_status) > twilio_status_rank(call_logs.twilio_status)
      then excluded.twilio_status else call_logs.twilio_status end,
    first_seen_at = least(call_logs.first_seen_at, excluded.first_seen_at),
    updated_at = now()
  returning (xmax = 0) into inserted;
  return inserted;
end
$$;

-- The rollup of every call_logs insert (0010's trigger; slots of 0032), written by the sighting
-- under the admission's lock and by every record: the same two SQL functions, planned again at
-- every call for the same reason. Bodies as in 0032.
create or replace function call_log_hourly_upsert(r call_logs, sign integer, bucket timestamptz) returns void language plpgsql as $$
begin
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
    duration_count = h.duration_count + excluded.duration_count;
end
$$;

-- The all-time row first (0010: the lock order that keeps two writers of a tenant from deadlocking).
create or replace function call_log_hourly_add(r call_logs, sign integer) returns void language plpgsql as $$
begin
  perform call_log_hourly_upsert(r, sign, '-infinity');
  perform call_log_hourly_upsert(r, sign, date_trunc('hour', r.started_at, 'UTC'));
end
$$;
