-- The end-of-call record's triggers and expression indexes: functions planned once per connection.
--
-- A `language sql` function that is not inlined (a statement that writes, a WITH or a subquery in
-- an array) is parsed, analysed and planned again every time a statement calls it: its plan lives
-- with the calling statement's executor state, and a trigger's or an index expression's executor
-- state is made per statement, i.e. per record. Per record that was: the outcome's hourly rollup
-- (two upserts), the call log's grams and word pairs (two expression indexes) and the session's
-- grams (a generated column). `language plpgsql` keeps each of its statements' plans for the
-- connection (as 0033 did for the call log's hourly rollup). Same bodies: the same rows, and the
-- same sets of grams and pairs (the arrays may list them in another order; every reader uses
-- `@>`, and GIN keeps a set of keys, so the indexes built from the old bodies stay valid).

create or replace function voice_outcome_hourly_add(r voice_outcomes, sign integer) returns void language plpgsql as $$
begin
  insert into voice_outcome_hourly as h values (r.tenant_id, date_trunc('hour', r.occurred_at, 'UTC'), sign,
    sign * (r.billing_status <> 'not_billable')::int, sign * (r.billing_status = 'not_billable')::int,
    sign * (r.billing_status = 'pending_emit')::int, sign * (r.billing_status = 'emitted')::int,
    sign * (r.billing_status in ('failed', 'failed_billing'))::int, sign * r.escalated::int,
    sign * coalesce(r.duration_seconds, 0), sign * (r.duration_seconds is not null)::int, ssv_rollup_slot())
  on conflict (tenant_id, hour, slot) do update set total = h.total + excluded.total,
    billable = h.billable + excluded.billable, not_billable = h.not_billable + excluded.not_billable,
    pending_emit = h.pending_emit + excluded.pending_emit, emitted = h.emitted + excluded.emitted,
    failed_billing = h.failed_billing + excluded.failed_billing, escalated = h.escalated + excluded.escalated,
    duration_sum = h.duration_sum + excluded.duration_sum, duration_count = h.duration_count + excluded.duration_count;
  insert into voice_outcome_hourly_mix as m
  select r.tenant_id, date_trunc('hour', r.occurred_at, 'UTC'), d.dimension, d.value, sign, ssv_rollup_slot()
  from (values ('resolution', r.resolution), ('billing_status', r.billing_status), ('billable_sku', r.billable_sku),
    ('risk_level', r.risk_level)) d (dimension, value)
  where d.value is not null
  on conflict (tenant_id, hour, dimension, value, slot) do update set n = m.n + excluded.n;
end
$$;

-- Written by the post-call analysis (one evaluation per analysed call).
create or replace function voice_session_eval_hourly_add(r voice_session_evals, sign integer) returns void language plpgsql as $$
begin
  insert into voice_session_eval_hourly as h
  select r.tenant_id, bucket, sign, sign * r.score::numeric, sign * (r.score >= 0.8)::int, ssv_rollup_slot()
  from (values ('-infinity'::timestamptz), (date_trunc('hour', r.created_at, 'UTC'))) b (bucket)
  on conflict (tenant_id, hour, slot) do update set n = h.n + excluded.n, score_sum = h.score_sum + excluded.score_sum,
    high_quality = h.high_quality + excluded.high_quality;
end
$$;

create or replace function search_grams(t text) returns text[] language plpgsql immutable strict parallel safe cost 1000 as $$
begin
  return array(with chars as (select string_to_array(t collate "C", null) as a)
    select distinct g from (
      select unnest(a) from chars
      union all
      select unnest(a[1:cardinality(a) - 1]) || unnest(a[2:cardinality(a)]) from chars) as grams(g));
end
$$;

create or replace function search_word_pairs(t text) returns text[] language plpgsql immutable strict parallel safe cost 1000 as $$
begin
  return array(select right(a, 3) || ' ' || left(b, 3)
    from (select array_remove(regexp_split_to_array(t collate "C", '[\x01-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+'), '') as w) s,
      unnest(w, w[2:]) as p(a, b) where b is not null);
end
$$;
