-- Agents: versioned agent configurations, traffic rollouts between versions, phone-number
-- routes to agents, and eval-gated rollout governance.

create table agents (
  id uuid primary key,
  tenant_id text not null references tenants (tenant_id) on delete cascade,
  agent_key text not null,
  name text not null,
  description text,
  -- the version calls get when nothing pins one and no rollout applies
  published_version_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (tenant_id, agent_key),
  -- lets child tables reference (tenant_id, id) so a row can never point into another tenant
  unique (tenant_id, id)
);

create table agent_versions (
  id uuid primary key,
  tenant_id text not null,
  agent_id uuid not null,
  version_number integer not null check (version_number > 0),
  status text not null check (status in ('draft', 'published')),
  config jsonb not null default '{}'::jsonb,
  published_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (agent_id, version_number),
  unique (tenant_id, agent_id, id),
  foreign key (tenant_id, agent_id) references agents (tenant_id, id) on delete cascade
);
create index agent_versions_tenant_idx on agent_versions (tenant_id, agent_id, version_number);

alter table agents add constraint agents_published_version_fk
  foreign key (tenant_id, id, published_version_id) references agent_versions (tenant_id, agent_id, id)
  deferrable initially deferred;

create table agent_version_rollouts (
  id uuid primary key,
  tenant_id text not null,
  agent_id uuid not null,
  agent_version_id uuid not null,
  traffic_percentage integer not null check (traffic_percentage between 0 and 100),
  position integer not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (agent_id, agent_version_id),
  foreign key (tenant_id, agent_id, agent_version_id)
    references agent_versions (tenant_id, agent_id, id) on delete cascade
);
create index agent_version_rollouts_agent_idx on agent_version_rollouts (tenant_id, agent_id, position);

create table phone_number_routes (
  id uuid primary key,
  tenant_id text not null,
  phone_number text not null,
  direction text not null check (direction in ('inbound', 'outbound', 'sip_inbound', 'sip_outbound')),
  agent_id uuid not null,
  agent_version_id uuid,
  greeting text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- a dialled number belongs to exactly one tenant: webhooks find the tenant through it
  unique (phone_number, direction),
  foreign key (tenant_id, agent_id) references agents (tenant_id, id) on delete cascade,
  foreign key (tenant_id, agent_id, agent_version_id) references agent_versions (tenant_id, agent_id, id)
);
create index phone_number_routes_tenant_idx on phone_number_routes (tenant_id, phone_number);

create table rollout_governance_policies (
  agent_id uuid primary key,
  tenant_id text not null,
  enabled boolean not null,
  lookback_hours integer not null check (lookback_hours > 0),
  min_eval_count integer not null check (min_eval_count >= 0),
  min_avg_score double precision not null check (min_avg_score between 0 and 1),
  min_high_quality_rate double precision check (min_high_quality_rate between 0 and 1),
  -- when a sweep last evaluated this agent; replicas claim agents that are due
  last_swept_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  foreign key (tenant_id, agent_id) references agents (tenant_id, id) on delete cascade
);
create index rollout_governance_policies_due_idx on rollout_governance_policies (last_swept_at nulls first) where enabled;

-- What governance did: one row per applied rollback (traffic moved off a failing version).
create table rollout_governance_actions (
  id uuid primary key,
  tenant_id text not null,
  agent_id uuid not null,
  from_version_id uuid not null,
  to_version_id uuid not null,
  moved_percentage integer not null,
  reasons jsonb not null,
  actor text not null,
  created_at timestamptz not null default now(),
  foreign key (tenant_id, agent_id) references agents (tenant_id, id) on delete cascade
);
create index rollout_governance_actions_agent_idx on rollout_governance_actions (tenant_id, agent_id, created_at desc);
