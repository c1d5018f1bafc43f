-- The tenant's voice-session page (`order by started_at desc, id`, VoiceSessions/SessionList.ts)
-- walked (tenant_id, started_at desc) and then sorted each run of equal started_at by id: an
-- incremental sort that copied the page's whole rows (transcripts included, ~90 kB for 50) before
-- they were written out. With id in the index the scan yields the page's order and the first 50
-- rows are read straight through (bench/RESULTS.md, stop 35, listalloc). The old index is a
-- prefix of this one: every query that used it can use this one, so it goes (one index to
-- maintain per insert, as before). An ascending page still sorts (a backward scan gives id desc).
create index voice_sessions_tenant_started_id_idx on voice_sessions (tenant_id, started_at desc, id);
drop index voice_sessions_tenant_started_idx;
