-- call-logs/latency: each call's turn latency summary as plain numbers in a narrow table of its own.
--
-- The report aggregates, over the calls of a window, the numbers of each call's
-- `turn_latency_stats.summary` (per-call avg/p50/p95/p99/max of two latencies) with
-- percentile_cont: percentiles of per-call percentiles, which no sum or rollup can give. It read
-- them out of the jsonb of every call of the window, eleven `#>>` a row, from call_logs' wide
-- rows (transcripts: ~4 rows a page): 273 calls of the last 24h were 69 pages and ~5 ms of
-- extraction, a month (8,218 calls) 1,600 pages (bench/RESULTS.md, "call-logs/latency").
-- Here the same numbers, cast from the same text with the same expressions (so every aggregate
-- over them is the same value), are read index-only from (tenant, started_at).
--
-- Only calls with turns (`turns > 0`, the report's filter) have a row. Kept by triggers on
-- call_logs in the writing transaction: insert, update of the summary or of what started_at,
-- the tenant or the id are made of, delete (also the tenant's cascade) and truncate. The writers
-- do not change.

create function call_log_latency_turns(stats jsonb) returns integer
language sql immutable parallel safe return (stats->>'turns')::int;

create table call_log_latency (
  call_log_id uuid primary key,
  tenant_id text not null,
  started_at timestamptz not null,
  turns integer not null,
  llm_avg float8, llm_p50 float8, llm_p95 float8, llm_p99 float8, llm_max float8,
  e2e_avg float8, e2e_p50 float8, e2e_p95 float8, e2e_p99 float8, e2e_max float8
);

-- The row of a call_logs row, or nothing when it has no turns.
create function call_log_latency_row(r call_logs) returns setof call_log_latency
language sql stable parallel safe as $$
  select r.id, r.tenant_id, r.started_at, call_log_latency_turns(r.turn_latency_stats),
    (s#>>'{llm_first_token_ms,avg}')::float8, (s#>>'{llm_first_token_ms,p50}')::float8,
    (s#>>'{llm_first_token_ms,p95}')::float8, (s#>>'{llm_first_token_ms,p99}')::float8,
    (s#>>'{llm_first_token_ms,max}')::float8,
    (s#>>'{e2e_first_audio_ms,avg}')::float8, (s#>>'{e2e_first_audio_ms,p50}')::float8,
    (s#>>'{e2e_first_audio_ms,p95}')::float8, (s#>>'{e2e_first_audio_ms,p99}')::float8,
    (s#>>'{e2e_first_audio_ms,max}')::float8
  from (select r.turn_latency_stats->'summary' as s) summary
  where call_log_latency_turns(r.turn_latency_stats) > 0
$$;

-- No writes while the table is filled and the triggers are created (one transaction). A read
-- of call_logs, not a rewrite: its rollup triggers and indexes are not touched.
lock table call_logs in share row exclusive mode;

insert into call_log_latency select l.* from call_logs c, lateral call_log_latency_row(c) l;

-- The report's read: a tenant's window, every number it aggregates in the index.
create index call_log_latency_window_idx on call_log_latency (tenant_id, started_at)
  include (turns, llm_avg, llm_p50, llm_p95, llm_p99, llm_max, e2e_avg, e2e_p50, e2e_p95, e2e_p99, e2e_max, call_log_id);

create function call_log_latency_sync() returns trigger language plpgsql as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    delete from call_log_latency where call_log_id = old.id;
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    insert into call_log_latency select * from call_log_latency_row(new);
  end if;
  return null;
end $$;

create function call_log_latency_truncate() returns trigger language plpgsql as $$
begin
  truncate call_log_latency;
  return null;
end $$;

create trigger call_log_latency_insert after insert on call_logs
  for each row when (call_log_latency_turns(new.turn_latency_stats) > 0)
  execute function call_log_latency_sync();
-- started_at is generated from media_started_at and first_seen_at (migration 0004).
create trigger call_log_latency_update after update of id, tenant_id, media_started_at, first_seen_at, turn_latency_stats
  on call_logs for each row when ((old.id, old.tenant_id, old.started_at, old.turn_latency_stats)
    is distinct from (new.id, new.tenant_id, new.started_at, new.turn_latency_stats))
  execute function call_log_latency_sync();
create trigger call_log_latency_delete after delete on call_logs
  for each row when (call_log_latency_turns(old.turn_latency_stats) > 0)
  execute function call_log_latency_sync();
create trigger call_log_latency_truncate after truncate on call_logs
  for each statement execute function call_log_latency_truncate();

analyze call_log_latency;
