-- Delivery of the outboxes (webhook_outbox, billing outcomes) by one worker per replica.
-- A worker claims due rows (FOR UPDATE SKIP LOCKED) and stamps them with a lease: a claim
-- token and an expiry. It records a result only while its token is on the row and the
-- lease has not expired; a row whose lease expired (its worker died) is claimable again.

alter table webhook_outbox
  add column lease_token uuid,
  add column lease_expires_at timestamptz;

-- Billing outcomes are delivered from voice_outcomes itself (billing_status pending_emit ->
-- emitted | failed_billing); these columns are its delivery state.
alter table voice_outcomes
  add column billing_attempts integer not null default 0,
  add column billing_next_attempt_at timestamptz,
  add column billing_lease_token uuid,
  add column billing_lease_expires_at timestamptz,
  add column billing_last_error text,
  add column billing_emitted_at timestamptz;

create index voice_outcomes_billing_due_idx on voice_outcomes (billing_next_attempt_at nulls first)
  where billing_status = 'pending_emit';

-- A tenant endpoint that answered 410 Gone: no more events are enqueued for, or sent to,
-- that URL. Configuring another URL is how a tenant turns deliveries back on.
create table webhook_endpoints_disabled (
  tenant_id text not null,
  url text not null,
  reason text not null,
  disabled_at timestamptz not null default now(),
  primary key (tenant_id, url)
);
