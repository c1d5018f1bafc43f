-- Governance applies promotions (docs/rollouts.md).

-- Since when a version has had a share of traffic (null at 0%): a canary is promoted only once
-- it has served for the policy's whole window. Kept by the rollout writer.
alter table agent_version_rollouts add column serving_since timestamptz;
update agent_version_rollouts set serving_since = updated_at where traffic_percentage > 0;

-- An action is a rollback (traffic moved off a failing canary) or a promotion (the canary made
-- the published version with all the traffic); both record the numbers that drove them.
alter table rollout_governance_actions
  add column kind text not null default 'rollback' check (kind in ('rollback', 'promotion'));

-- The canary-vs-baseline limits of a policy: null = the tenant's `rollout_governance` config,
-- else the platform defaults. No endpoint ever set them, so every stored value is a default.
alter table rollout_governance_policies
  alter column max_score_drop drop not null, alter column max_score_drop drop default,
  alter column max_escalation_rate_increase drop not null, alter column max_escalation_rate_increase drop default,
  alter column max_failure_rate_increase drop not null, alter column max_failure_rate_increase drop default,
  alter column max_abandonment_rate_increase drop not null, alter column max_abandonment_rate_increase drop default,
  alter column max_p95_latency_increase_ms drop not null, alter column max_p95_latency_increase_ms drop default;
update rollout_governance_policies set max_score_drop = null, max_escalation_rate_increase = null,
  max_failure_rate_increase = null, max_abandonment_rate_increase = null, max_p95_latency_increase_ms = null;

-- Governance reads a version's turn latencies over a window (CallLogs.versionTurnLatency).
create index call_logs_version_media_ended_idx on call_logs (tenant_id, agent_version_id, media_ended_at)
  where agent_version_id is not null;
