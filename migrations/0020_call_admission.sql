-- Call admission in fewer round trips (issue 11: call set-up under bursts).

-- Calls of a tenant and of a replica now: the live-call ledger plus admissions the ledger does
-- not show yet (not yet connected, not started or ended in the call log). The one definition
-- for the admission checks and the usage view.
create function call_counts(p_tenant text, p_replica text, p_cutoff timestamptz, out tenant integer, out replica integer)
language sql stable as $$
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
  select (count(*) filter (where tenant_id = p_tenant))::int, (count(*) filter (where replica_id = p_replica))::int
  from every
$$;

-- An inbound call's admission (no monthly budget to check) in one round trip instead of six
-- (BEGIN, lock, replay check, counts, insert, COMMIT). The same locks as the transaction path in
-- src/Limits/Limits.ts, in the same order: the tenant's (every replica's admissions of that
-- tenant), then the replica's (two-key form: its own key space). Each statement of a plpgsql
-- function reads what was committed before it ran, so the counts after the locks are current;
-- the locks end with the statement's transaction.
-- Returns the admission ids (an earlier admission of the same call SID: Twilio retried the
-- webhook), or a refusal reason with the tenant's call count.
create function admit_inbound_call(
  p_id uuid, p_tenant text, p_replica text, p_call_sid text, p_at timestamptz, p_cutoff timestamptz,
  p_max_tenant integer, p_max_replica integer,
  out admitted text[], out refusal text, out tenant_calls integer
) language plpgsql volatile as $$
declare
  counts record;
begin
  perform pg_advisory_xact_lock(hashtext('call-admission:' || p_tenant));
  perform pg_advisory_xact_lock(20, hashtext(p_replica));
  select array_agg(id::text) into admitted from call_admissions where tenant_id = p_tenant and call_sid = p_call_sid;
  if admitted is not null then return; end if;
  select * into counts from call_counts(p_tenant, p_replica, p_cutoff);
  tenant_calls := counts.tenant;
  if counts.tenant + 1 > p_max_tenant then refusal := 'tenant_concurrency'; return; end if;
  if counts.replica + 1 > p_max_replica then refusal := 'replica_concurrency'; return; end if;
  insert into call_admissions (id, tenant_id, replica_id, direction, call_sid, admitted_at)
  values (p_id, p_tenant, p_replica, 'inbound', p_call_sid, p_at);
  admitted := array[p_id::text];
end
$$;
