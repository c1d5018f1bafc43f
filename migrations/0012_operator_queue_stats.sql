-- GET /operator-queues/stats without reading every task (issue 13). The open and in-progress
-- tasks, the only ones the time-dependent figures (overdue, oldest age) look at, are served by
-- this partial covering index (an index-only scan over active tasks); the all-time total per
-- queue is an index-only count on callback_tasks_queue_idx. No counters kept by triggers: they
-- would serialise every task write of a queue on one row, and overdue/oldest depend on "now".
create index callback_tasks_active_queue_idx on callback_tasks (tenant_id, queue_key, created_at)
  include (status, sla_due_at, assigned_to) where status in ('open', 'in_progress');
