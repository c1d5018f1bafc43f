-- Call set-up in fewer round trips (issue 11): an inbound call's webhook is one statement.

-- Rank of a Twilio CallStatus (as `rank` in src/CallLogs/Writes.ts): terminal ones are kept once seen.
create function twilio_status_rank(p_status text) returns integer language sql immutable as $$
  select case p_status
    when 'queued' then 1 when 'initiated' then 2 when 'ringing' then 3 when 'in-progress' then 4
    when 'completed' then 10 when 'busy' then 10 when 'no-answer' then 10 when 'failed' then 10 when 'canceled' then 10
    else 0 end
$$;

-- The voice webhook saw the call: merged into the row keyed by (tenant_id, call_sid) whatever
-- order the webhook, status callbacks and the media record arrive in; true when the row is new
-- (its `voice.call.started` event is due). The one definition of the first sighting
-- (src/CallLogs/Writes.ts calls it; the ranks of Twilio's CallStatus are those of its status
-- callbacks: a sighting never moves a call's status backwards).
create function call_log_seen(
  p_id uuid, p_tenant text, p_call_sid text, p_direction text, p_from text, p_to text,
  p_agent_version_id uuid, p_twilio_status text, p_at timestamptz
) returns boolean language sql volatile as $$
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
  returning (xmax = 0)
$$;

-- An inbound call's admission (admit_inbound_call, 0020: the same locks, order and checks) and,
-- when it lets the call through, the call log's first sighting: the webhook's one round trip
-- instead of two (and one transaction). The sighting is written under the admission's locks,
-- which only lengthens them by one insert in the same statement (no round trip in between).
-- A refused call leaves no call log row, as before.
create function admit_inbound_call_seen(
  p_id uuid, p_tenant text, p_replica text, p_call_sid text, p_at timestamptz, p_cutoff timestamptz,
  p_max_tenant integer, p_max_replica integer,
  p_log_id uuid, p_from text, p_to text, p_agent_version_id uuid, p_twilio_status text,
  out admitted text[], out refusal text, out tenant_calls integer, out first_sighting boolean
) language plpgsql volatile as $$
declare
  decision record;
begin
  select * into decision
  from admit_inbound_call(p_id, p_tenant, p_replica, p_call_sid, p_at, p_cutoff, p_max_tenant, p_max_replica);
  admitted := decision.admitted;
  refusal := decision.refusal;
  tenant_calls := decision.tenant_calls;
  if admitted is not null then
    first_sighting := call_log_seen(p_log_id, p_tenant, p_call_sid, 'inbound', p_from, p_to, p_agent_version_id,
                                    p_twilio_status, p_at);
  end if;
end
$$;
