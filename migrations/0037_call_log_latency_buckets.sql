-- call-logs/latency for all time: percentiles from coarse value buckets and an index probe.
--
-- 0036 counted every distinct value per tenant and metric (call_log_latency_values) and ranked
-- them all at every all-time report: ~2,200 rows on the seeded 100k (integer values), but one row
-- per call and metric for real, interpolated per-call percentiles (a scan's worth of rows).
-- Here a tenant's calls are counted per metric and bucket (a bucket is 1/128 of a power of two:
-- 0.4-0.8 % of a value wide, 128 buckets per doubling whatever the values), and the report ranks
-- only the bucket counts (tens to hundreds of rows), then reads each percentile's value from an
-- index on that metric: `offset` the rank inside its bucket from the bucket's lower bound. Exact:
-- the values read are the rows' own; the counts are kept in the writing transaction.
--
-- A bucket's key is its lower bound `lo` (a double), the largest grid point <= the value, the
-- grid being 2^e + j * 2^(e-7) in each octave [2^e, 2^(e+1)) with 0 <= e < 1000 (every value
-- below 1 is in the bucket '-infinity', every value from 2^1000 in 2^1000's). Powers of two and their multiples are exact doubles, so a
-- value is never below its bucket's bound nor at or above the next bucket's.

-- plpgsql of simple expressions: a SQL function of nested selects was not inlined and cost ~0.05 ms
-- a call in the trigger (six a call).
create function call_log_latency_bucket(v float8) returns float8
language plpgsql immutable strict parallel safe as $$
declare
  -- Values from 2^1000 up (and infinity) share one bucket: no power overflows.
  w float8 := least(v, 2::float8 ^ 1000);
  e int;
  step float8;
begin
  if v < 1 then
    return '-infinity';
  end if;
  -- ln's rounding can put e one off next to a power of two: corrected against exact powers.
  e := floor(ln(w) / ln(2::float8));
  if 2::float8 ^ e > w then
    e := e - 1;
  elsif 2::float8 ^ (e + 1) <= w then
    e := e + 1;
  end if;
  step := 2::float8 ^ (e - 7);
  return floor(w / step) * step;
end $$;

-- metric: 1-3 llm p50/p95/p99, 4-6 e2e p50/p95/p99 (as 0036's call_log_latency_metrics).
create table call_log_latency_buckets (
  tenant_id text not null,
  metric smallint not null,
  lo float8 not null,
  calls int8 not null,
  primary key (tenant_id, metric, lo)
);

-- The probes: a tenant's values of one metric in order, from a bucket's bound.
create index call_log_latency_llm_p50_idx on call_log_latency (tenant_id, llm_p50);
create index call_log_latency_llm_p95_idx on call_log_latency (tenant_id, llm_p95);
create index call_log_latency_llm_p99_idx on call_log_latency (tenant_id, llm_p99);
create index call_log_latency_e2e_p50_idx on call_log_latency (tenant_id, e2e_p50);
create index call_log_latency_e2e_p95_idx on call_log_latency (tenant_id, e2e_p95);
create index call_log_latency_e2e_p99_idx on call_log_latency (tenant_id, e2e_p99);

-- 0036's delta, with bucket counts in place of value counts (the same number of rows a call).
create or replace function call_log_latency_days_apply(old_row call_log_latency, new_row call_log_latency) returns void
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
  insert into call_log_latency_buckets as b
  select (c.r).tenant_id, m.metric, call_log_latency_bucket(m.value), sum(c.sign)
  from changed c, lateral call_log_latency_metrics(c.r) m
  group by 1, 2, 3 having sum(c.sign) <> 0 order by 1, 2, 3
  on conflict (tenant_id, metric, lo) do update set calls = b.calls + excluded.calls;
end $$;

create or replace function call_log_latency_days_truncate() returns trigger language plpgsql as $$
begin
  truncate call_log_latency_day_slots, call_log_latency_buckets, call_log_latency_day_points;
  return null;
end $$;

-- Filled from the table as it is, with no writer in between.
lock table call_log_latency in share row exclusive mode;

insert into call_log_latency_buckets
select l.tenant_id, m.metric, call_log_latency_bucket(m.value), count(*)
from call_log_latency l, lateral call_log_latency_metrics(l) m group by 1, 2, 3;

drop table call_log_latency_values;

analyze call_log_latency_buckets, call_log_latency;
