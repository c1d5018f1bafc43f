-- voice-sessions?search=<term>: the searched text in a narrow table of its own.
--
-- The list answers the exact count of all matches, so a common word rechecks every matching
-- row (a trigram index is lossy). With the text stored in voice_sessions (migration 0026) those
-- rechecks read the wide rows (transcript jsonb, the text again, function calls, metadata...):
-- 195 MB for 100,000 sessions, more than shared_buffers, so a count of 20,000 matches read
-- thousands of pages from the OS and p99 was 1-2 s at 20 searches/s (bench/RESULTS.md). Here
-- the recheck reads only (tenant, id, started_at, status, text): the whole table stays cached.
--
-- `search_text` is the same text as migration 0026's column: lower(phone ‖ U+FFFF ‖ agent ‖
-- U+FFFF ‖ summary ‖ U+FFFF ‖ transcript::text), so `search_text like lower(p)` is still the
-- per-field ILIKE for a term without U+FFFF (src/VoiceSessions/Repo.ts).
--
-- Kept by triggers on voice_sessions, in the writing transaction: insert, update of a field it
-- holds, delete (also the tenant's cascade) and truncate. The writers do not change.

-- Trusted (PG 13+): the database owner may create it, like pg_trgm (migration 0010).
create extension if not exists btree_gin;

create function voice_session_search_text(phone text, agent text, summary text, transcript jsonb)
returns text language sql immutable parallel safe as $$
  select lower(coalesce(phone, '') || U&'\FFFF' || coalesce(agent, '') || U&'\FFFF' ||
    coalesce(summary, '') || U&'\FFFF' || transcript::text)
$$;

create table voice_session_search (
  session_id uuid primary key,
  tenant_id text not null,
  started_at timestamptz not null,
  status text not null,
  search_text text not null
);

-- No writes while the table is filled and the triggers are created (one transaction).
lock table voice_sessions in share row exclusive mode;

insert into voice_session_search (session_id, tenant_id, started_at, status, search_text)
select id, tenant_id, started_at, status,
  voice_session_search_text(customer_phone, agent_name, summary, transcript)
from voice_sessions;

-- The tenant inside the index (btree_gin): a tenant's search reads only its own candidates,
-- not every tenant's sessions that contain the term.
create index voice_session_search_trgm_idx on voice_session_search using gin (tenant_id, search_text gin_trgm_ops);
-- A page of a common word: newest first, stopping at the page's last match.
create index voice_session_search_tenant_started_idx on voice_session_search (tenant_id, started_at desc);

create function voice_session_search_sync() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    insert into voice_session_search (session_id, tenant_id, started_at, status, search_text)
    values (new.id, new.tenant_id, new.started_at, new.status,
      voice_session_search_text(new.customer_phone, new.agent_name, new.summary, new.transcript));
  elsif tg_op = 'UPDATE' then
    update voice_session_search set session_id = new.id, tenant_id = new.tenant_id,
      started_at = new.started_at, status = new.status,
      search_text = voice_session_search_text(new.customer_phone, new.agent_name, new.summary, new.transcript)
    where session_id = old.id;
  else
    delete from voice_session_search where session_id = old.id;
  end if;
  return null;
end $$;

create function voice_session_search_truncate() returns trigger language plpgsql as $$
begin
  truncate voice_session_search;
  return null;
end $$;

create trigger voice_session_search_insert after insert on voice_sessions
  for each row execute function voice_session_search_sync();
create trigger voice_session_search_update after update on voice_sessions
  for each row when ((old.id, old.tenant_id, old.started_at, old.status, old.customer_phone, old.agent_name,
    old.summary, old.transcript) is distinct from (new.id, new.tenant_id, new.started_at, new.status,
    new.customer_phone, new.agent_name, new.summary, new.transcript))
  execute function voice_session_search_sync();
create trigger voice_session_search_delete after delete on voice_sessions
  for each row execute function voice_session_search_sync();
create trigger voice_session_search_truncate after truncate on voice_sessions
  for each statement execute function voice_session_search_truncate();

-- The copy in voice_sessions (migration 0026) and its index are no longer read. Dropping the
-- column only changes the catalog: existing rows keep its bytes until they are rewritten.
alter table voice_sessions drop column search_text;

analyze voice_session_search;
