-- Foundation: tenants and their credentials, admin sessions, access requests,
-- shared rate-limit windows and service-wide secrets.

create table tenants (
  tenant_id text primary key,
  config jsonb not null,
  etag text not null,
  -- sha256 of config.auth_token, so a legacy bearer token is found by index, never by scanning configs
  auth_token_sha256 bytea,
  twilio_account_sid text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index tenants_auth_token_sha256_key on tenants (auth_token_sha256) where auth_token_sha256 is not null;
create index tenants_twilio_account_sid_idx on tenants (twilio_account_sid) where twilio_account_sid is not null;

create table tenant_api_keys (
  id uuid primary key,
  tenant_id text not null references tenants (tenant_id) on delete cascade,
  key_prefix text not null,
  key_sha256 bytea not null unique,
  label text,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index tenant_api_keys_tenant_idx on tenant_api_keys (tenant_id, created_at);

create table admin_sessions (
  token_sha256 bytea primary key,
  username text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index admin_sessions_expires_idx on admin_sessions (expires_at);

create table admin_login_failures (
  id bigserial primary key,
  throttle_key text not null,
  failed_at timestamptz not null default now()
);
create index admin_login_failures_key_idx on admin_login_failures (throttle_key, failed_at);

create table access_requests (
  id uuid primary key,
  company_name text not null,
  contact_name text not null,
  work_email text not null,
  phone text,
  role text,
  website text,
  use_case text not null,
  expected_monthly_minutes text,
  timeline text,
  status text not null default 'open',
  source text not null,
  metadata jsonb not null default '{}'::jsonb,
  remote_addr text,
  user_agent text,
  created_at timestamptz not null default now(),
  reviewed_at timestamptz
);
create index access_requests_status_created_idx on access_requests (status, created_at desc);

-- Fixed one-minute windows shared by every replica; unlogged because losing them in a crash is harmless.
create unlogged table rate_limit_windows (
  bucket text not null,
  window_start timestamptz not null,
  hits integer not null,
  primary key (bucket, window_start)
);

-- Secrets every replica must agree on when they are not configured (e.g. HMAC keys).
create table service_secrets (
  name text primary key,
  secret bytea not null,
  created_at timestamptz not null default now()
);
