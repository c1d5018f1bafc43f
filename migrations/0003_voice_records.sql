-- Voice records: one session per media stream, its canonical outcome, and quality evals.

create table voice_sessions (
  id uuid primary key,
  tenant_id text not null references tenants (tenant_id) on delete cascade,
  org_id text,
  stream_id text not null,
  call_sid text,
  -- the call log row written with this session (Calls), when known
  call_log_id uuid,
  -- the agent version that served the call (Agents)
  agent_version_id uuid,
  agent_name text,
  call_type text,
  customer_phone text,
  model text,
  voice text,
  status text not null,
  transcript jsonb not null default '[]'::jsonb,
  function_calls jsonb not null default '[]'::jsonb,
  vad_events jsonb not null default '[]'::jsonb,
  metadata jsonb not null default '{}'::jsonb,
  tags text[] not null default '{}',
  turn_count integer not null default 0,
  summary text,
  sentiment text,
  rating integer,
  duration_ms bigint,
  escalated boolean not null default false,
  started_at timestamptz not null,
  ended_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, stream_id),
  unique (tenant_id, id)
);
create index voice_sessions_tenant_started_idx on voice_sessions (tenant_id, started_at desc);
create index voice_sessions_tenant_call_sid_idx on voice_sessions (tenant_id, call_sid) where call_sid is not null;

create table voice_outcomes (
  id uuid primary key,
  tenant_id text not null references tenants (tenant_id) on delete cascade,
  org_id text,
  voice_session_id uuid references voice_sessions (id) on delete set null,
  stream_sid text not null,
  call_sid text,
  call_type text,
  customer_phone text,
  agent_name text,
  agent_version_id uuid,
  resolution text not null,
  billing_status text not null,
  billable_sku text,
  outcome_source text not null,
  escalated boolean not null,
  disposition jsonb not null default '{}'::jsonb,
  metadata jsonb not null default '{}'::jsonb,
  primary_intent text,
  risk_level text,
  duration_seconds integer,
  occurred_at timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, stream_sid)
);
create index voice_outcomes_tenant_occurred_idx on voice_outcomes (tenant_id, occurred_at desc);

create table voice_session_evals (
  id uuid primary key,
  tenant_id text not null,
  voice_session_id uuid not null,
  stream_id text,
  call_log_id uuid,
  agent_version_id uuid,
  agent_key text,
  agent_name text,
  score double precision not null check (score >= 0 and score <= 1),
  tags text[] not null default '{}',
  rubric jsonb not null default '{}'::jsonb,
  notes text,
  source text,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- one evaluation per session; recording again replaces it
  unique (tenant_id, voice_session_id),
  foreign key (tenant_id, voice_session_id) references voice_sessions (tenant_id, id) on delete cascade
);
create index voice_session_evals_tenant_created_idx on voice_session_evals (tenant_id, created_at desc);
create index voice_session_evals_version_idx on voice_session_evals (tenant_id, agent_version_id, created_at)
  where agent_version_id is not null;
