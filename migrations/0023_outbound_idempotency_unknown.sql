-- make-call whose Twilio request timed out: the call may exist, so the key is kept (never freed
-- for a redial) and answers 409 until it expires.
alter table outbound_idempotency add column outcome_unknown_at timestamptz;
