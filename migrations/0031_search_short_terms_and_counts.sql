-- Search at scale, part 3 (issue 13): terms of one or two characters through an index, kept
-- counts registered without holding the tenant's writers, counters spread over slots.
--
-- 1. Short terms. A trigram index cannot answer a LIKE of one or two characters, so
--    `voice-sessions?search=xy` counted, and `call-logs?transcript_search=xy` paged, by reading
--    every row of the tenant (seconds under load). `search_grams(text)` is the set of distinct
--    one- and two-character substrings of a text: a term of one or two characters is a
--    substring of the text exactly when the set contains it, so `search_grams(t) @> array[term]`
--    is the same predicate as `t LIKE '%term%'` for such a term, and a GIN index answers it
--    without a recheck. Linear in the text's length (no substr per position); the pairs are
--    zipped by two unnests in one select list; "C" only makes the distinct cheap (same bytes).
create function search_grams(t text) returns text[] language sql immutable strict parallel safe cost 1000 as $$
  with chars as (select string_to_array(t collate "C", null) as a)
  select array(select distinct g from (
    select unnest(a) from chars
    union all
    select unnest(a[1:cardinality(a) - 1]) || unnest(a[2:cardinality(a)]) from chars) as grams(g))
$$;

-- Stored for sessions: a list walking the newest sessions checks the grams of each row it reads
-- (a count of "er" computed them per row: 1.5 s), reading an array is cheap. Rewrites the narrow
-- table once.
alter table voice_session_search add column grams text[] generated always as (search_grams(search_text)) stored;
create index voice_session_search_grams_idx on voice_session_search using gin (tenant_id, grams);
-- Call logs keep the grams in the index only (no rewrite of the wide table): the list reads the
-- newest calls with ILIKE first and comes to the grams only when that window has too few
-- matches (CallLogs/Repo.ts), i.e. for a rare term, which the planner reads through the index.
-- ILIKE compares lower() of both sides (UTF-8): the grams of the lowered text.
create index call_logs_transcript_grams_idx on call_logs using gin (tenant_id, search_grams(lower(transcript_text)));

-- 2. Registration without the exclusive lock (src/VoiceSessions/SearchCounts.ts). A term is
--    inserted not ready (writers keep its counts from then on), the registration waits for the
--    writers that held the tenant's shared lock at that moment (they may not have seen the term),
--    then adds, in one statement, the live count minus what the counters already hold (both in
--    that statement's snapshot) and marks the term ready. Readers use ready terms only. No
--    writer ever waits for a registration, so no lock cycle through it either.
--    `claim` names the registration under way; one that died is taken over after a minute.
alter table voice_session_search_terms
  add column ready boolean not null default true,
  add column claim uuid,
  add column claimed_at timestamptz;
alter table voice_session_search_terms alter column ready set default false;

-- 3. Counter slots. Every writer whose session matches a kept term updated the same counter row
--    (tenant, term, status) and held it until commit, so a tenant's writers of matching
--    sessions committed one at a time. Each connection now writes the slot of its backend
--    (pid mod 16); readers sum the slots.
alter table voice_session_search_counts add column slot smallint not null default 0;
alter table voice_session_search_counts drop constraint voice_session_search_counts_pkey;
alter table voice_session_search_counts add primary key (tenant_id, pattern, status, slot);

create or replace function voice_session_search_count() returns trigger language plpgsql as $$
begin
  if tg_op <> 'INSERT' then
    perform pg_advisory_xact_lock_shared(727002, hashtext(old.tenant_id));
  end if;
  if tg_op <> 'DELETE' then
    perform pg_advisory_xact_lock_shared(727002, hashtext(new.tenant_id));
  end if;
  -- One statement, rows in key order, one slot per connection.
  insert into voice_session_search_counts as c (tenant_id, pattern, status, slot, n)
  select tenant_id, pattern, status, pg_backend_pid() % 16, sum(d) from (
    select t.tenant_id, t.pattern, old.status, -1 as d from voice_session_search_terms t
    where tg_op <> 'INSERT' and t.tenant_id = old.tenant_id and old.search_text like t.pattern
    union all
    select t.tenant_id, t.pattern, new.status, 1 from voice_session_search_terms t
    where tg_op <> 'DELETE' and t.tenant_id = new.tenant_id and new.search_text like t.pattern
  ) changes
  group by tenant_id, pattern, status having sum(d) <> 0
  order by tenant_id, pattern, status
  on conflict (tenant_id, pattern, status, slot) do update set n = c.n + excluded.n;
  return null;
end $$;

-- The list's total per status (migration 0010) is the same kind of row: every session write of
-- a tenant with the same status. Slotted the same way; its reader sums per status already.
alter table voice_session_counts add column slot smallint not null default 0;
alter table voice_session_counts drop constraint voice_session_counts_pkey;
alter table voice_session_counts add primary key (tenant_id, status, slot);

create or replace function voice_session_counts_trigger() returns trigger language plpgsql as $$
begin
  if tg_op <> 'INSERT' then
    insert into voice_session_counts as c values (old.tenant_id, old.status, -1, pg_backend_pid() % 16)
    on conflict (tenant_id, status, slot) do update set n = c.n - 1;
  end if;
  if tg_op <> 'DELETE' then
    insert into voice_session_counts as c values (new.tenant_id, new.status, 1, pg_backend_pid() % 16)
    on conflict (tenant_id, status, slot) do update set n = c.n + 1;
  end if;
  return null;
end $$;

analyze voice_session_search;
analyze call_logs;
