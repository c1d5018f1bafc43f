-- Operator queues, callback tasks and the supervisor action log (issue 8). Every row is a
-- tenant's; every query filters on tenant_id. Times are written by the service's Clock.
create table operator_queues (
  id uuid primary key,
  tenant_id text not null,
  queue_key text not null,
  name text not null,
  description text,
  is_default boolean not null default false,
  priority integer not null default 0,
  sla_seconds integer check (sla_seconds is null or sla_seconds > 0),
  default_assignee text,
  auto_dispatch_enabled boolean not null default false,
  auto_dispatch_delay_seconds integer check (auto_dispatch_delay_seconds is null or auto_dispatch_delay_seconds >= 0),
  auto_dispatch_max_attempts integer not null default 3 check (auto_dispatch_max_attempts >= 0),
  auto_dispatch_retry_delay_seconds integer check (auto_dispatch_retry_delay_seconds is null or auto_dispatch_retry_delay_seconds >= 0),
  dispatch_timezone text,
  dispatch_window_start_hour_utc integer check (dispatch_window_start_hour_utc between 0 and 23),
  dispatch_window_end_hour_utc integer check (dispatch_window_end_hour_utc between 0 and 24),
  dispatch_schedule jsonb not null default '{}'::jsonb,
  follow_up_escalation_seconds integer check (follow_up_escalation_seconds is null or follow_up_escalation_seconds > 0),
  follow_up_escalation_queue_key text,
  follow_up_escalation_assignee text,
  follow_up_escalation_priority integer,
  active boolean not null default true,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  unique (tenant_id, queue_key)
);
-- One default queue per tenant: the one tasks without a queue_key (and tasks made by calls) go to.
create unique index operator_queues_default_idx on operator_queues (tenant_id) where is_default;

create table callback_tasks (
  id uuid primary key,
  tenant_id text not null,
  queue_key text not null,
  status text not null check (status in ('open', 'in_progress', 'completed', 'canceled')),
  disposition text not null check (disposition in ('human_follow_up_required', 'callback_requested',
    'callback_scheduled', 'transferred', 'resolved', 'voicemail_follow_up', 'customer_abandoned')),
  priority integer not null default 0,
  stream_sid text,
  call_sid text,
  customer_phone text,
  agent_name text,
  summary text,
  notes text,
  assigned_to text,
  created_by text,
  metadata jsonb not null default '{}'::jsonb,
  due_at timestamptz not null,
  sla_due_at timestamptz,
  last_sla_alert_due_at timestamptz,
  last_sla_alerted_at timestamptz,
  dispatch_attempt_count integer not null default 0,
  last_dispatch_attempted_at timestamptz,
  last_dispatch_call_sid text,
  last_dispatch_status text,
  claimed_at timestamptz,
  completed_at timestamptz,
  acknowledged_at timestamptz,
  acknowledged_by text,
  snoozed_until timestamptz,
  snooze_reason text,
  -- follow-up sweep bookkeeping: one reminder and one escalation per task
  follow_up_notified_at timestamptz,
  follow_up_escalated_at timestamptz,
  -- a linked ticket in the tenant's own system (external reconciliation)
  external_source text,
  external_reference_id text,
  external_status text,
  external_checked_at timestamptz,
  -- tasks made by call rules: one per call and rule, however often the call is reported
  source_key text,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  unique (tenant_id, source_key)
);
create index callback_tasks_tenant_idx on callback_tasks (tenant_id, created_at desc);
create index callback_tasks_queue_idx on callback_tasks (tenant_id, queue_key, status);
create index callback_tasks_sla_idx on callback_tasks (sla_due_at) where status in ('open', 'in_progress');
create index callback_tasks_external_idx on callback_tasks (external_checked_at nulls first)
  where external_reference_id is not null and status in ('open', 'in_progress');

create table supervisor_actions (
  id uuid primary key,
  tenant_id text not null,
  stream_sid text not null,
  call_sid text,
  action text not null check (action in ('monitor', 'whisper', 'barge', 'escalate', 'end')),
  supervisor text not null,
  target text,
  reason text,
  note text,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null
);
create index supervisor_actions_tenant_idx on supervisor_actions (tenant_id, created_at desc);
