-- Transfers of live calls to people (issue 9): one row per attempt, so a transfer nobody
-- answered is kept (with Twilio's DialCallStatus) instead of the call claiming "escalated",
-- and the answer that makes it an escalation is taken exactly once (pending -> answered).
create table call_transfers (
  id uuid primary key,
  tenant_id text not null,
  call_sid text not null,
  stream_sid text,
  mode text not null check (mode in ('cold', 'warm', 'barge')),
  target text not null,
  reason text,
  initiated_by text not null check (initiated_by in ('ai', 'supervisor')),
  conference_name text,
  -- what the person hears first in a warm transfer
  summary text,
  status text not null default 'pending' check (status in ('pending', 'answered', 'unanswered', 'completed')),
  dial_call_status text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index call_transfers_call_idx on call_transfers (tenant_id, call_sid, created_at);
