-- Live call control: a supervisor's `monitor` action marks the call, so every replica (and the
-- supervisors' live log stream) can tell which calls are being watched and by whom.
alter table live_calls
  add column monitored_at timestamptz,
  add column monitored_by text;
