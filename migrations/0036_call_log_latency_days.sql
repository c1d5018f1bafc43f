-- call-logs/latency for 30d and all from day rollups (issue 13, item 3).
--
-- The report over a window is: counts, sums and maxima of each call's numbers, six
-- percentile_cont over each call's own percentiles, a point per UTC day (count + the day's six
-- percentiles) and the slowest calls. Read from call_log_latency (0034) that is a pass and six
-- sorts over the window (30d: ~8,200 calls, ~19 ms) plus ~31 (30d) or ~366 (all) per-day sorts.
-- Kept here, each exact (the report equals the full scan to the last digit):
--
-- 1. call_log_latency_day_slots: per tenant, UTC day and writer slot (0032's ssv_rollup_slot, so
--    two replicas recording the same tenant-day update different rows): calls, turns, and the
--    averages' non-null counts and numeric sums (float8 -> numeric keeps 15 significant digits,
--    the same for a value every time, and numeric sums are exact, so they do not depend on the
--    order rows are added; the report averages as trim_scale(sum(x::numeric)) / count(x), in both
--    the scan and the rollup). `changes` counts
--    the rows ever applied: a day's cached points are current while its slots' sum is unchanged.
-- 2. call_log_latency_values: per tenant, metric (the six percentile columns) and value, how many
--    calls have that value. percentile_cont needs the exact values, and these counts are exact
--    whatever the values; they are compact when values repeat (on the seeded 100k: 150-600
--    distinct values a metric). All time reads them: ranks from running sums, interpolated as
--    PostgreSQL does. (A window of days sorts its values: per-day counts of distinct values are
--    as many rows as the calls.)
-- 3. call_log_latency_day_points: a day's count, six percentiles and two maxima, computed from its rows by
--    call_log_latency_days_refresh (a sweep on every replica) and stamped with the day's
--    `changes`; the report uses a day's cached point only while the stamp still equals the sum of
--    its slots, else it sorts that day's rows itself. Never stale, only slower until refreshed.
--
-- Writers add deltas (+1 new row, -1 old row) in the writing transaction: no recomputation.
-- One trigger call applies its old and new rows in key order (a call moved between days locks
-- both days' rows in day order, whichever way it moves).

create table call_log_latency_day_slots (
  tenant_id text not null,
  day timestamptz not null,
  slot smallint not null,
  calls int8 not null,
  turns int8 not null,
  llm_avg_calls int8 not null,
  llm_avg_sum numeric not null,
  e2e_avg_calls int8 not null,
  e2e_avg_sum numeric not null,
  changes int8 not null,
  primary key (tenant_id, day, slot)
);

-- metric: 1-3 llm p50/p95/p99, 4-6 e2e p50/p95/p99.
create table call_log_latency_values (
  tenant_id text not null,
  metric smallint not null,
  value float8 not null,
  calls int8 not null,
  primary key (tenant_id, metric, value)
);

create table call_log_latency_day_points (
  tenant_id text not null,
  day timestamptz not null,
  changes int8 not null,
  calls int8 not null,
  p50_llm float8, p95_llm float8, p99_llm float8, p50_e2e float8, p95_e2e float8, p99_e2e float8,
  llm_max float8, e2e_max float8,
  primary key (tenant_id, day)
);

-- A call's numbers per metric, in metric order (nulls are not counted, as percentile_cont skips them).
create function call_log_latency_metrics(r call_log_latency) returns table (metric smallint, value float8)
language sql immutable parallel safe as $$
  select m.metric::smallint, m.value from (values (1, r.llm_p50), (2, r.llm_p95), (3, r.llm_p99), (4, r.e2e_p50),
    (5, r.e2e_p95), (6, r.e2e_p99)) m (metric, value)
  where m.value is not null
$$;

-- Adds a call_log_latency row (sign 1) or takes it away (-1); both for an update, days and values in key order.
-- plpgsql, not sql: its statement is planned once per connection, not at every call.
create function call_log_latency_days_apply(old_row call_log_latency, new_row call_log_latency) returns void
language plpgsql as $$
begin
  with changed as (
    select c.r, c.sign, date_trunc('day', (c.r).started_at, 'UTC') as day
    from (values (old_row, -1), (new_row, 1)) c (r, sign)
    where (c.r).call_log_id is not null),
  days as (
    insert into call_log_latency_day_slots as d
    select (r).tenant_id, day, ssv_rollup_slot(), sum(sign), sum(sign * (r).turns),
      sum(sign * ((r).llm_avg is not null)::int), coalesce(sum(sign * (r).llm_avg::numeric), 0),
      sum(sign * ((r).e2e_avg is not null)::int), coalesce(sum(sign * (r).e2e_avg::numeric), 0), count(*)
    from changed group by 1, 2 order by 1, 2
    on conflict (tenant_id, day, slot) do update set calls = d.calls + excluded.calls,
      turns = d.turns + excluded.turns, llm_avg_calls = d.llm_avg_calls + excluded.llm_avg_calls,
      llm_avg_sum = d.llm_avg_sum + excluded.llm_avg_sum, e2e_avg_calls = d.e2e_avg_calls + excluded.e2e_avg_calls,
      e2e_avg_sum = d.e2e_avg_sum + excluded.e2e_avg_sum, changes = d.changes + excluded.changes
    returning 1)
  insert into call_log_latency_values as v
  select (c.r).tenant_id, m.metric, m.value, sum(c.sign)
  from changed c, lateral call_log_latency_metrics(c.r) m
  group by 1, 2, 3 having sum(c.sign) <> 0 order by 1, 2, 3
  on conflict (tenant_id, metric, value) do update set calls = v.calls + excluded.calls;
end $$;

create function call_log_latency_days_sync() returns trigger language plpgsql as $$
begin
  perform call_log_latency_days_apply(case when tg_op <> 'INSERT' then old end, case when tg_op <> 'DELETE' then new end);
  return null;
end $$;

create function call_log_latency_days_truncate() returns trigger language plpgsql as $$
begin
  truncate call_log_latency_day_slots, call_log_latency_values, call_log_latency_day_points;
  return null;
end $$;

-- 0034's sync, now updating a call's row in place when it keeps one (it deleted and inserted it):
-- so the rollup trigger sees the move in one call and locks its two days in order.
create or replace function call_log_latency_sync() returns trigger language plpgsql as $$
declare
  kept call_log_latency;
begin
  if tg_op in ('INSERT', 'UPDATE') then
    select * into kept from call_log_latency_row(new);
  end if;
  if tg_op = 'UPDATE' and kept.call_log_id is not null then
    update call_log_latency set (call_log_id, tenant_id, started_at, turns, llm_avg, llm_p50, llm_p95, llm_p99, llm_max,
      e2e_avg, e2e_p50, e2e_p95, e2e_p99, e2e_max) = (select (kept).*)
    where call_log_id = old.id;
    if found then
      return null;
    end if;
  end if;
  if tg_op in ('UPDATE', 'DELETE') then
    delete from call_log_latency where call_log_id = old.id;
  end if;
  if kept.call_log_id is not null then
    insert into call_log_latency select kept.*;
  end if;
  return null;
end $$;

-- A day's point from its rows: the report's own expressions (CallLogs/LatencyJson.ts). Strict and
-- `rows 1`, so it is not inlined: a caller's plan counts one row a day, not a range of the table.
create function call_log_latency_day_point(tenant text, day_start timestamptz)
returns table (calls int8, p50_llm float8, p95_llm float8, p99_llm float8, p50_e2e float8, p95_e2e float8, p99_e2e float8,
  llm_max float8, e2e_max float8)
language sql stable strict parallel safe rows 1 as $$
  select count(*), percentile_cont(0.5) within group (order by llm_p50), percentile_cont(0.95) within group (order by llm_p95),
    percentile_cont(0.99) within group (order by llm_p99), percentile_cont(0.5) within group (order by e2e_p50),
    percentile_cont(0.95) within group (order by e2e_p95), percentile_cont(0.99) within group (order by e2e_p99),
    max(llm_max), max(e2e_max)
  from call_log_latency
  where tenant_id = tenant and started_at >= day_start and started_at < day_start + interval '1 day'
$$;

-- Caches the points of up to `batch` days whose rows changed since they were cached (any replica,
-- any time: an older computation never replaces a newer one, and every stamp is a consistent pair).
create function call_log_latency_days_refresh(batch integer) returns integer language sql as $$
  with stale as (
    select s.tenant_id, s.day, sum(s.changes) as changes
    from call_log_latency_day_slots s
    group by 1, 2
    having sum(s.changes) is distinct from
      (select p.changes from call_log_latency_day_points p where p.tenant_id = s.tenant_id and p.day = s.day)
    order by 2 desc limit batch),
  refreshed as (
    insert into call_log_latency_day_points as p
    select st.tenant_id, st.day, st.changes, pt.* from stale st, lateral call_log_latency_day_point(st.tenant_id, st.day) pt
    order by 1, 2
    on conflict (tenant_id, day) do update set changes = excluded.changes, calls = excluded.calls,
      p50_llm = excluded.p50_llm, p95_llm = excluded.p95_llm, p99_llm = excluded.p99_llm,
      p50_e2e = excluded.p50_e2e, p95_e2e = excluded.p95_e2e, p99_e2e = excluded.p99_e2e,
      llm_max = excluded.llm_max, e2e_max = excluded.e2e_max
      where p.changes < excluded.changes
    returning 1)
  select count(*)::int from refreshed
$$;

-- Filled from the table as it is, with no writer in between (the triggers start with the rows).
lock table call_log_latency in share row exclusive mode;

insert into call_log_latency_day_slots
select tenant_id, date_trunc('day', started_at, 'UTC'), 0, count(*), sum(turns), count(llm_avg),
  coalesce(sum(llm_avg::numeric), 0), count(e2e_avg), coalesce(sum(e2e_avg::numeric), 0), count(*)
from call_log_latency group by 1, 2;

insert into call_log_latency_values
select l.tenant_id, m.metric, m.value, count(*) from call_log_latency l, lateral call_log_latency_metrics(l) m group by 1, 2, 3;

select call_log_latency_days_refresh(2147483647);

create trigger call_log_latency_days_sync after insert or update or delete on call_log_latency
  for each row execute function call_log_latency_days_sync();
create trigger call_log_latency_days_truncate after truncate on call_log_latency
  for each statement execute function call_log_latency_days_truncate();

-- The slowest calls of a window or of all time, read in the report's order (a top-N without a sort).
create index call_log_latency_slowest_idx on call_log_latency
  (tenant_id, e2e_p95 desc nulls last, llm_p95 desc nulls last, started_at desc, call_log_id);

analyze call_log_latency_day_slots, call_log_latency_values, call_log_latency_day_points;
