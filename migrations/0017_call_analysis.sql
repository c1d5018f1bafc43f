-- Post-call analysis (docs/call-analysis.md): one durable job per finished call, enqueued in
-- the transaction that writes the call's record. Every replica's worker claims due jobs with
-- FOR UPDATE SKIP LOCKED and a lease (as the outbox does); a job is retried with backoff up to
-- a maximum of attempts, then marked failed. `outbox_id` is the call's held
-- `voice.call.completed` row, released (with the summary, or without it) when the job ends.

create table call_analysis_jobs (
  id uuid primary key,
  tenant_id text not null,
  voice_session_id uuid not null,
  call_log_id uuid,
  outbox_id uuid,
  status text not null default 'pending' check (status in ('pending', 'done', 'failed')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null,
  lease_token uuid,
  lease_expires_at timestamptz,
  last_error text,
  completed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- a call is analysed once (a replayed record enqueues nothing new)
  unique (tenant_id, voice_session_id),
  foreign key (tenant_id, voice_session_id) references voice_sessions (tenant_id, id) on delete cascade
);
create index call_analysis_jobs_due_idx on call_analysis_jobs (next_attempt_at) where status = 'pending';

-- Governance compares a canary with its baseline on calls, not only on evals: these read the
-- outcomes of a version over a window.
create index if not exists voice_outcomes_version_occurred_idx on voice_outcomes (tenant_id, agent_version_id, occurred_at)
  where agent_version_id is not null;

-- Canary against baseline (docs/rollouts.md): how much worse than the published version a
-- canary may be on each signal before governance rolls it back. Defaults until the policy
-- API carries them; the minimum sample is the policy's min_eval_count (calls and evals alike).
alter table rollout_governance_policies
  add column max_score_drop double precision not null default 0.05 check (max_score_drop >= 0),
  add column max_escalation_rate_increase double precision not null default 0.05 check (max_escalation_rate_increase >= 0),
  add column max_failure_rate_increase double precision not null default 0.05 check (max_failure_rate_increase >= 0),
  add column max_abandonment_rate_increase double precision not null default 0.05 check (max_abandonment_rate_increase >= 0),
  add column max_p95_latency_increase_ms integer not null default 500 check (max_p95_latency_increase_ms >= 0);

-- The numbers that drove an applied rollback (canary and baseline signals, thresholds).
alter table rollout_governance_actions add column metadata jsonb not null default '{}'::jsonb;
