-- Per-replica caches on the call and request paths (issues 11, 13) are invalidated by
-- PostgreSQL itself: every committed change to what they hold is announced by a trigger,
-- whoever wrote it (a service, governance's rollback, a hand-run UPDATE). NOTIFY is sent at
-- commit and identical payloads in one transaction are sent once.

-- "Tenant X's agents, versions, rollouts or phone routes changed" (src/Agents/AgentCache.ts).
create function notify_agent_cache() returns trigger language plpgsql as $$
begin
  if tg_op = 'DELETE' then
    perform pg_notify('agent_cache', old.tenant_id);
  else
    perform pg_notify('agent_cache', new.tenant_id);
    if tg_op = 'UPDATE' and old.tenant_id is distinct from new.tenant_id then
      perform pg_notify('agent_cache', old.tenant_id);
    end if;
  end if;
  return null;
end $$;

create trigger agents_notify_agent_cache after insert or update or delete on agents
  for each row execute function notify_agent_cache();
create trigger agent_versions_notify_agent_cache after insert or update or delete on agent_versions
  for each row execute function notify_agent_cache();
create trigger agent_version_rollouts_notify_agent_cache after insert or update or delete on agent_version_rollouts
  for each row execute function notify_agent_cache();
create trigger phone_number_routes_notify_agent_cache after insert or update or delete on phone_number_routes
  for each row execute function notify_agent_cache();

-- "The key with this sha256 (hex) is revoked or gone" (src/ApiKeys/KeyCache.ts). Touching
-- last_used_at is not announced: only a change that can make an accepted key unacceptable.
create function notify_api_key_cache() returns trigger language plpgsql as $$
begin
  perform pg_notify('api_key_cache', encode(old.key_sha256, 'hex'));
  return null;
end $$;

create trigger tenant_api_keys_notify_revoked after update on tenant_api_keys
  for each row
  when (old.revoked_at is distinct from new.revoked_at
    or old.key_sha256 is distinct from new.key_sha256
    or old.tenant_id is distinct from new.tenant_id)
  execute function notify_api_key_cache();
create trigger tenant_api_keys_notify_deleted after delete on tenant_api_keys
  for each row execute function notify_api_key_cache();
