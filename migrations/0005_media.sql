-- Media: the calls each replica holds right now, with that replica's heartbeat. A replica
-- that dies mid-call leaves its rows behind with a stale heartbeat; another replica then
-- closes those calls' records (as failed) so no call log stays "in progress" forever.
create table live_calls (
  tenant_id text not null references tenants (tenant_id) on delete cascade,
  stream_sid text not null,
  call_sid text,
  replica_id text not null,
  direction text not null check (direction in ('inbound', 'outbound')),
  from_number text,
  to_number text,
  agent_version_id text,
  model text not null,
  voice text not null,
  started_at timestamptz not null,
  heartbeat_at timestamptz not null default now(),
  primary key (tenant_id, stream_sid)
);
create index live_calls_replica_idx on live_calls (replica_id);
create index live_calls_heartbeat_idx on live_calls (heartbeat_at);
