-- make-call Idempotency-Key: the first request with a key per tenant dials; a retry gets its answer.
create table outbound_idempotency (
  tenant_id text not null,
  idempotency_key text not null,
  -- sha256 of the request body as decoded; the same key with another body is a 409
  request_hash text not null,
  -- null while the first request is still dialling
  response jsonb,
  created_at timestamptz not null default now(),
  primary key (tenant_id, idempotency_key)
);
-- expired keys of a tenant are deleted as its new keys are stored
create index outbound_idempotency_created on outbound_idempotency (tenant_id, created_at);

-- Live log subscribers per replica and tenant: how replicas know whom to publish for, and the stats.
create table live_log_clients (
  replica_id text not null,
  tenant_id text not null,
  clients integer not null,
  updated_at timestamptz not null default now(),
  primary key (replica_id, tenant_id)
);
