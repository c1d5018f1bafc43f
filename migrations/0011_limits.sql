-- Cost and abuse controls (issue 16, docs/limits.md).

-- A call let through a limit before the live-call ledger knows it (outbound: dialled but not
-- yet answered; inbound: TwiML sent, media stream not yet started). Counted with the ledger so
-- concurrent requests on any replica see each other; it stops counting once the call is in the
-- ledger or the call log shows it started or ended, or after CALL_ADMISSION_TTL_SECS.
create table call_admissions (
  id uuid primary key,
  tenant_id text not null,
  replica_id text not null,
  direction text not null check (direction in ('inbound', 'outbound')),
  call_sid text,
  admitted_at timestamptz not null
);
create index call_admissions_tenant_idx on call_admissions (tenant_id, admitted_at);
create index call_admissions_replica_idx on call_admissions (replica_id, admitted_at);

-- Velocity: admitted outbound calls / SMS per tenant per fixed window (minute, day).
create table limit_counters (
  tenant_id text not null,
  name text not null,
  window_start timestamptz not null,
  hits integer not null,
  primary key (tenant_id, name, window_start)
);

-- `voice.budget.warning` goes out once per tenant, month and threshold.
create table budget_notices (
  tenant_id text not null,
  month date not null,
  threshold integer not null,
  sent_at timestamptz not null,
  primary key (tenant_id, month, threshold)
);

-- A limit refusing work is logged with the supervisor actions (action 'refuse', supervisor 'limits').
alter table supervisor_actions drop constraint supervisor_actions_action_check;
alter table supervisor_actions add constraint supervisor_actions_action_check
  check (action in ('monitor', 'whisper', 'barge', 'escalate', 'end', 'refuse'));
