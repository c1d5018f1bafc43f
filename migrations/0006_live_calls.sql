-- Live calls: each row also carries what the session listings show, so any replica can
-- answer `GET /sessions` for the calls of every replica from here. `replica_id` names the
-- replica that holds the call: where a command for it has to go.
alter table live_calls
  add column customer_phone text,
  add column agent_name text,
  add column greeting text,
  add column org_id text,
  add column escalated boolean not null default false,
  add column escalation_target text;
create index live_calls_started_idx on live_calls (started_at);
