-- Admissions reserved ahead (issue 11: the incoming-call webhook without a database round trip).
-- A replica keeps a few ordinary `call_admissions` rows with no call SID per tenant taking calls
-- (src/Limits/AdmissionsAhead.ts); `call_counts` (0020/0033) already counts them on every replica,
-- so the caps stay exact. A webhook takes one in memory and answers at once; its SID and the call
-- log's first sighting are written after the answer (`reserved_admissions_taken`).

-- Up to array_length(p_ids) reservations for a tenant on a replica, taken under the same locks, in
-- the same order, as admit_inbound_call (0020), and only while the tenant's calls (its
-- reservations included, every replica's) stay at or below p_tenant_room and the replica's at or
-- below p_replica_room (the callers pass half of each cap: near a cap every webhook takes the
-- synchronous path). Returns the ids reserved (a prefix of p_ids) and the tenant's count before.
create function reserve_call_admissions(
  p_ids uuid[], p_tenant text, p_replica text, p_at timestamptz, p_cutoff timestamptz,
  p_tenant_room integer, p_replica_room integer,
  out reserved uuid[], out tenant_calls integer
) language plpgsql volatile as $$
declare
  counts record;
  n integer;
begin
  perform pg_advisory_xact_lock(hashtext('call-admission:' || p_tenant));
  perform pg_advisory_xact_lock(20, hashtext(p_replica));
  select * into counts from call_counts(p_tenant, p_replica, p_cutoff);
  tenant_calls := counts.tenant;
  n := greatest(0, least(coalesce(array_length(p_ids, 1), 0), p_tenant_room - counts.tenant, p_replica_room - counts.replica));
  reserved := p_ids[1:n];
  insert into call_admissions (id, tenant_id, replica_id, direction, call_sid, admitted_at)
  select id, p_tenant, p_replica, 'inbound', null, p_at from unnest(reserved) id;
end
$$;

-- This replica's admissions whose calls have started (the ledger shows them, or the call log their
-- start or end): they count nothing, yet every count of their tenant probes them until pruned. The
-- ledger's statement deletes its call's admission (admissionSettled, src/Limits/Repo.ts), but not one
-- whose SID a webhook's background write set while that statement ran (neither sees the other's
-- uncommitted row): those are deleted here, by the next write or the replica's next tick.
create function settle_replica_admissions(p_replica text) returns void language plpgsql volatile as $$
begin
  delete from call_admissions a
  where a.replica_id = p_replica and a.call_sid is not null
    and (exists (select 1 from live_calls l where l.tenant_id = a.tenant_id and l.call_sid = a.call_sid)
      or exists (select 1 from call_logs c where c.tenant_id = a.tenant_id and c.call_sid = a.call_sid
                 and (c.media_started_at is not null or c.twilio_ended_at is not null)));
end
$$;

-- Reservations taken by webhooks, several in one statement: each gets its call SID (its admission
-- then counts from p_at, the webhook's time, as an admission made there would) and, where
-- p_seen, the call log's first sighting (call_log_seen, 0028/0033). A reservation that is gone
-- (pruned after its TTL, released by hand) is admitted again as the call's own row, without
-- checks: the call was answered, so it must count. When the call's stream started first (the
-- ledger shows it, or the call log its start or end) the admission is deleted instead, as the
-- ledger's statement would have (admissionSettled, src/Limits/Repo.ts): left with its SID it
-- counted nothing yet every count of the tenant probed it until pruned (bench/RESULTS.md, stop 37).
-- Retrying a batch is harmless: the SID is set again (or the row deleted again), the sighting merges.
create function reserved_admissions_taken(
  p_ids uuid[], p_tenants text[], p_replica text, p_call_sids text[], p_at timestamptz[], p_seen boolean[],
  p_log_ids uuid[], p_from text[], p_to text[], p_agent_version_ids uuid[], p_twilio_status text[]
) returns void language plpgsql volatile as $$
begin
  for i in 1 .. coalesce(array_length(p_ids, 1), 0) loop
    if exists (select 1 from live_calls l where l.tenant_id = p_tenants[i] and l.call_sid = p_call_sids[i])
       or exists (select 1 from call_logs c where c.tenant_id = p_tenants[i] and c.call_sid = p_call_sids[i]
                  and (c.media_started_at is not null or c.twilio_ended_at is not null)) then
      delete from call_admissions where id = p_ids[i];
    else
      update call_admissions set call_sid = p_call_sids[i], admitted_at = p_at[i]
      where id = p_ids[i] and tenant_id = p_tenants[i];
      if not found then
        insert into call_admissions (id, tenant_id, replica_id, direction, call_sid, admitted_at)
        values (p_ids[i], p_tenants[i], p_replica, 'inbound', p_call_sids[i], p_at[i])
        on conflict (id) do nothing;
      end if;
    end if;
    if p_seen[i] then
      perform call_log_seen(p_log_ids[i], p_tenants[i], p_call_sids[i], 'inbound', p_from[i], p_to[i],
                            p_agent_version_ids[i], p_twilio_status[i], p_at[i]);
    end if;
  end loop;
  perform settle_replica_admissions(p_replica);
end
$$;
