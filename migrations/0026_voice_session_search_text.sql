-- voice-sessions?search=<term>: one stored, lowercased text of the four searched fields, with
-- one trigram index (replacing the four per-field ones).
--
-- The search is `customer_phone ILIKE p OR agent_name ILIKE p OR summary ILIKE p OR
-- transcript::text ILIKE p`, and the list answers the exact count of all matches. With a common
-- word that count read every matching row and, for each, serialised its jsonb transcript to text
-- again and lowercased it again (ILIKE in a UTF-8 database is lower(text) LIKE lower(pattern)):
-- ~50 us a row, 1.9 s p99 at 20,000 sessions (bench/RESULTS.md). `search_text` holds that text
-- already lowercased, so the recheck of each candidate is a plain LIKE on stored text.
--
-- U+FFFF separates the fields, so a term without it can only match inside one field: for such a
-- term `search_text LIKE lower(p)` is the same predicate as the OR above (lower() of the
-- concatenation is the concatenation of the lower()s). A term containing U+FFFF falls back to
-- the OR (src/VoiceSessions/Repo.ts).
--
-- Rewrites voice_sessions once (a stored generated column), under an exclusive lock.
alter table voice_sessions add column search_text text not null generated always as (lower(
  coalesce(customer_phone, '') || U&'\FFFF' || coalesce(agent_name, '') || U&'\FFFF' ||
  coalesce(summary, '') || U&'\FFFF' || transcript::text)) stored;

create index voice_sessions_search_trgm_idx on voice_sessions using gin (search_text gin_trgm_ops);

drop index if exists voice_sessions_transcript_trgm_idx;
drop index if exists voice_sessions_summary_trgm_idx;
drop index if exists voice_sessions_customer_phone_trgm_idx;
drop index if exists voice_sessions_agent_name_trgm_idx;
