-- voice-sessions?search=<common word>: the exact count of a term searched often, kept by triggers.
--
-- The list answers the exact count of all matches (docs/spec-deviations.md). Through the
-- trigram index (migration 0029) a count visits and rechecks every match (the index is lossy):
-- ~30 ms of CPU for a word in 20,000 of 100,000 sessions, for every request. For a term with
-- many matches the service registers it here (src/VoiceSessions/Repo.ts), and from then on the
-- count is kept per (tenant, term, status) in the transaction that writes a session, so a
-- request reads a few rows instead of 20,000. A term not registered is counted as before.
--
-- Exactness: a writer of a tenant's sessions holds a shared advisory lock on the tenant until it
-- commits (taken by the trigger below before it reads the registered terms); a registration
-- takes the lock exclusively, so it counts only after every writer that did not see the term
-- has committed, and every later writer sees the term (plpgsql takes a new snapshot per
-- statement). Counts change in the writing transaction, so a reader's snapshot sees the
-- sessions and their counts together. Removing a registration is safe at any time (the
-- service does it under the same lock).

create table voice_session_search_terms (
  tenant_id text not null,
  -- The LIKE pattern over search_text, lowercased as the search compares it.
  pattern text not null,
  registered_at timestamptz not null default now(),
  primary key (tenant_id, pattern)
);

create table voice_session_search_counts (
  tenant_id text not null,
  pattern text not null,
  status text not null,
  n bigint not null,
  -- No foreign key to the term: a writer that read the term just before it was removed (not
  -- under the lock: by hand) must not fail; counts without a term are never read, and a new
  -- registration replaces them.
  primary key (tenant_id, pattern, status)
);

create function voice_session_search_count() returns trigger language plpgsql as $$
begin
  if tg_op <> 'INSERT' then
    perform pg_advisory_xact_lock_shared(727002, hashtext(old.tenant_id));
  end if;
  if tg_op <> 'DELETE' then
    perform pg_advisory_xact_lock_shared(727002, hashtext(new.tenant_id));
  end if;
  -- One statement, rows in key order: concurrent writers lock counters in the same order.
  insert into voice_session_search_counts as c (tenant_id, pattern, status, n)
  select tenant_id, pattern, status, sum(d) from (
    select t.tenant_id, t.pattern, old.status, -1 as d from voice_session_search_terms t
    where tg_op <> 'INSERT' and t.tenant_id = old.tenant_id and old.search_text like t.pattern
    union all
    select t.tenant_id, t.pattern, new.status, 1 from voice_session_search_terms t
    where tg_op <> 'DELETE' and t.tenant_id = new.tenant_id and new.search_text like t.pattern
  ) changes
  group by tenant_id, pattern, status having sum(d) <> 0
  order by tenant_id, pattern, status
  on conflict (tenant_id, pattern, status) do update set n = c.n + excluded.n;
  return null;
end $$;

create function voice_session_search_count_truncate() returns trigger language plpgsql as $$
begin
  delete from voice_session_search_counts;
  delete from voice_session_search_terms;
  return null;
end $$;

create trigger voice_session_search_count after insert or update or delete on voice_session_search
  for each row execute function voice_session_search_count();
create trigger voice_session_search_count_truncate after truncate on voice_session_search
  for each statement execute function voice_session_search_count_truncate();
