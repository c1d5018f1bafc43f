-- Calls: one call log per Twilio call (or media stream), single-use stream tokens, and the
-- webhook outbox the delivery worker drains.

-- A call log is written by up to three independent sources, in any order: the voice webhook
-- (call placed/answered), Twilio's status callbacks and the media bridge when the stream
-- ends. Each source writes only its own columns; the columns the API reads (status,
-- outcome, duration, started/ended) are generated from all of them, so the row converges to
-- the same values whatever order the writes arrive in.
create table call_logs (
  id uuid primary key,
  tenant_id text not null references tenants (tenant_id) on delete cascade,
  call_sid text,
  stream_sid text,
  direction text not null check (direction in ('inbound', 'outbound')),
  from_number text,
  to_number text,
  agent_version_id uuid,
  model text,
  voice text,
  system_prompt_key text,
  first_seen_at timestamptz not null,
  -- media bridge
  media_started_at timestamptz,
  media_ended_at timestamptz,
  media_status text check (media_status in ('completed', 'failed', 'escalated')),
  end_reason text,
  error_message text,
  escalated boolean not null default false,
  escalation_reason text,
  transcript jsonb not null default '[]'::jsonb,
  transcript_text text not null default '',
  transcript_length integer not null default 0,
  function_calls jsonb not null default '[]'::jsonb,
  function_call_count integer not null default 0,
  turn_latency_stats jsonb,
  summary text,
  -- Twilio status callbacks (raw CallStatus values: queued, ringing, in-progress, completed, busy, no-answer, failed, canceled)
  twilio_status text,
  twilio_duration_seconds integer,
  twilio_ended_at timestamptz,
  answered_by text,
  recording_url text,
  -- derived: what the API shows
  status text generated always as (
    case
      when escalated then 'escalated'
      when twilio_status = 'busy' then 'busy'
      when twilio_status = 'no-answer' then 'no_answer'
      when twilio_status = 'canceled' then 'canceled'
      when twilio_status = 'failed' or media_status = 'failed' then 'failed'
      when twilio_status = 'completed' or media_ended_at is not null then 'completed'
      else 'in_progress'
    end
  ) stored,
  outcome text generated always as (
    case
      when twilio_status = 'busy' then 'busy'
      when twilio_status in ('no-answer', 'canceled') then 'no_answer'
      when twilio_status = 'failed' then 'failed'
      when twilio_status = 'completed' or media_ended_at is not null then
        case
          when answered_by like 'machine%' then 'voicemail'
          when answered_by = 'fax' then 'failed'
          else 'answered'
        end
      else null
    end
  ) stored,
  duration_seconds integer generated always as (
    coalesce(twilio_duration_seconds, floor(extract(epoch from (media_ended_at - media_started_at)))::integer)
  ) stored,
  started_at timestamptz generated always as (coalesce(media_started_at, first_seen_at)) stored,
  ended_at timestamptz generated always as (coalesce(media_ended_at, twilio_ended_at)) stored,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index call_logs_call_sid_key on call_logs (tenant_id, call_sid) where call_sid is not null;
create unique index call_logs_stream_sid_key on call_logs (tenant_id, stream_sid) where stream_sid is not null;
-- list order and keyset cursor: newest first, id breaks ties
create index call_logs_tenant_started_idx on call_logs (tenant_id, started_at desc, id desc);
create index call_logs_tenant_status_idx on call_logs (tenant_id, status, started_at desc);

-- A stream token can open one media stream: the first redemption inserts its id, a replay conflicts.
create table stream_token_uses (
  token_id text primary key,
  tenant_id text not null,
  call_sid text not null,
  expires_at timestamptz not null,
  used_at timestamptz not null default now()
);
create index stream_token_uses_expires_idx on stream_token_uses (expires_at);

-- Events for tenants' webhook URLs, written in the same transaction as the change they announce.
-- A delivery worker claims due rows with
--   select ... where status = 'pending' and next_attempt_at <= now() order by next_attempt_at
--   for update skip locked limit N
-- and records attempts, backoff (next_attempt_at) and the terminal state on the row.
create table webhook_outbox (
  id uuid primary key,
  tenant_id text not null,
  event text not null,
  -- the full WebhookEvent envelope: {event, timestamp, tenant_id, data}
  payload jsonb not null,
  status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error text,
  last_status_code integer,
  delivered_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index webhook_outbox_due_idx on webhook_outbox (next_attempt_at) where status = 'pending';
create index webhook_outbox_tenant_idx on webhook_outbox (tenant_id, created_at desc);
