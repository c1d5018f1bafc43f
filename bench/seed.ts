/**
 * Realistic volume for the REST benchmark, written by PostgreSQL itself (generate_series), so
 * 100,000 rows per table take seconds: call logs with transcripts and latency summaries, voice
 * sessions, outcomes and evaluations, spread over the last `days` days. The rows go through
 * the tables' triggers like any write, so rollups are built the same way as in production.
 */
import pg from "pg"

export interface SeedTenant {
  readonly tenantId: string
  readonly rows: number
}

const WORDS = ["refund", "order", "shipping", "invoice", "delayed", "cancel", "upgrade", "password", "billing", "agent",
  "warranty", "address", "tracking", "damaged", "exchange", "subscription", "discount", "appointment", "callback", "account"]

/** A transcript of `turns` entries; words picked from row number `n` so search terms hit ~5% of rows. */
const transcriptSql = (turns: number) => `(select jsonb_agg(jsonb_build_object(
    'role', case when t % 2 = 0 then 'user' else 'assistant' end,
    'content', 'Customer asked about ' || (array['${WORDS.join("','")}'])[1 + ((n * 7 + t * 13) % ${WORDS.length})]
      || ' for order ' || (n * 31 + t) || ', the agent checked the account and confirmed the details.',
    'timestamp', to_char(started + make_interval(secs => t * 9), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) order by t)
  from generate_series(1, ${turns}) t)`

const callLogs = (tenant: string, rows: number, days: number, from: number, to: number) => `
insert into call_logs (id, tenant_id, call_sid, stream_sid, direction, from_number, to_number, model, voice,
  first_seen_at, media_started_at, media_ended_at, media_status, escalated, transcript, transcript_text,
  transcript_length, function_calls, function_call_count, turn_latency_stats, summary, twilio_status,
  twilio_duration_seconds, answered_by)
select gen_random_uuid(), '${tenant}', 'CA' || md5('${tenant}' || n), 'MZ' || md5('s${tenant}' || n),
  case when n % 3 = 0 then 'outbound' else 'inbound' end, '+1555' || lpad((n % 9999)::text, 7, '0'), '+15550000001',
  'gpt-realtime', 'alloy', started, started, started + make_interval(secs => 30 + n % 600),
  case when n % 17 = 0 then 'failed' when n % 23 = 0 then 'escalated' else 'completed' end, n % 23 = 0,
  tr, (select string_agg(e->>'content', ' ') from jsonb_array_elements(tr) e), jsonb_array_length(tr), '[]'::jsonb, 0,
  jsonb_build_object('turns', 6, 'summary', jsonb_build_object(
    'llm_first_token_ms', jsonb_build_object('count', 6, 'avg', 300 + n % 200, 'p50', 280 + n % 150, 'p95', 500 + n % 300, 'p99', 600 + n % 400, 'max', 700 + n % 500),
    'e2e_first_audio_ms', jsonb_build_object('count', 6, 'avg', 700 + n % 300, 'p50', 650 + n % 250, 'p95', 900 + n % 500, 'p99', 1000 + n % 600, 'max', 1200 + n % 700))),
  'Caller asked about an order', case n % 11 when 0 then 'busy' when 1 then 'no-answer' else 'completed' end,
  30 + n % 600, case when n % 13 = 0 then 'machine_start' else 'human' end
from (select n, now() - make_interval(secs => (n::float8 / ${rows}) * ${days} * 86400) as started
      from generate_series(${from}, ${to}) n) s, lateral (select ${transcriptSql(6)} as tr) t`

const sessions = (tenant: string, rows: number, days: number, from: number, to: number) => `
insert into voice_sessions (id, tenant_id, stream_id, call_sid, agent_name, call_type, customer_phone, model, voice,
  status, transcript, metadata, tags, turn_count, summary, sentiment, duration_ms, started_at, ended_at)
select gen_random_uuid(), '${tenant}', 'MZ' || md5('s${tenant}' || n), 'CA' || md5('${tenant}' || n), 'support', 'inbound',
  '+1555' || lpad((n % 9999)::text, 7, '0'), 'gpt-realtime', 'alloy', case when n % 19 = 0 then 'failed' else 'completed' end,
  ${transcriptSql(4)}, '{"channel":"phone"}'::jsonb, array['bench'], 4, 'Caller asked about an order', 'neutral',
  (30 + n % 600) * 1000, started, started + make_interval(secs => 30 + n % 600)
from (select n, now() - make_interval(secs => (n::float8 / ${rows}) * ${days} * 86400) as started
      from generate_series(${from}, ${to}) n) s`

const outcomes = (tenant: string) => `
insert into voice_outcomes (id, tenant_id, voice_session_id, stream_sid, call_sid, call_type, resolution, billing_status,
  billable_sku, outcome_source, escalated, disposition, primary_intent, risk_level, duration_seconds, occurred_at)
select gen_random_uuid(), tenant_id, id, stream_id, call_sid, 'inbound',
  (array['resolved','escalated','abandoned','unresolved'])[1 + (turn_count + duration_ms / 1000)::int % 4],
  (array['not_billable','pending_emit','emitted','failed'])[1 + (duration_ms / 1000)::int % 4],
  'voice-minute', 'model', duration_ms % 7000 = 0, '{"reason":"bench"}'::jsonb, 'order_status',
  (array['low','medium','high'])[1 + (duration_ms / 1000)::int % 3], (duration_ms / 1000)::int, coalesce(ended_at, started_at)
from voice_sessions v where tenant_id = '${tenant}'
  and not exists (select 1 from voice_outcomes o where o.voice_session_id = v.id) limit ${BATCH}`

const evals = (tenant: string) => `
insert into voice_session_evals (id, tenant_id, voice_session_id, stream_id, agent_name, score, tags, rubric, source,
  created_at)
select gen_random_uuid(), tenant_id, id, stream_id, 'support', ((duration_ms / 1000) % 101) / 100.0, array['bench'],
  '{"greeting":1}'::jsonb, 'bench', coalesce(ended_at, started_at)
from voice_sessions v where tenant_id = '${tenant}'
  and not exists (select 1 from voice_session_evals e where e.voice_session_id = v.id) limit ${BATCH}`

/**
 * Rows per statement: one statement of 100,000 calls ran its rollup triggers' updates of the
 * same rows in one transaction (each update walking the row's versions) for over 20 minutes.
 */
const BATCH = 5000

/** Tenants must exist (created through the admin API so their keys work). */
export const seed = async (url: string, tenants: ReadonlyArray<SeedTenant>, days = 365) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    for (const { rows, tenantId } of tenants) {
      for (let from = 1; from <= rows; from += BATCH) {
        const to = Math.min(rows, from + BATCH - 1)
        await client.query(callLogs(tenantId, rows, days, from, to))
        await client.query(sessions(tenantId, rows, days, from, to))
      }
      while ((await client.query(outcomes(tenantId))).rowCount! > 0);
      while ((await client.query(evals(tenantId))).rowCount! > 0);
    }
    // Every table the lists and searches read, as autovacuum would leave them (it is off on the CI
    // box): the narrow search table (migration 0029) never analyzed was planned as empty, so a
    // common word's page sorted all its matches instead of walking newest first (bench/RESULTS.md).
    // call_log_latency (migration 0034) is read index-only: that needs its visibility map set.
    await client.query(
      "vacuum analyze call_logs, call_log_latency, voice_sessions, voice_session_search, voice_outcomes, voice_session_evals"
    )
    // The seed's writes are flushed now, not by a checkpoint during the first measured case (the
    // bare baseline's p99 read 122-153 ms right after seeding in stop 28's full run).
    // Needs superuser (or pg_checkpoint); without it the run just measures through the checkpoint.
    await client.query("checkpoint").catch(() => undefined)
  } finally {
    await client.end()
  }
}
