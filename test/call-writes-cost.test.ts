import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type pg from "pg"
import { testDatabaseUrl, withClient } from "./support/TestDatabase.js"

/**
 * Migration 0040: what PostgreSQL does per call, cut at its causes with the same rows and answers
 * (bench/RESULTS.md, stop 34, pgcall). The analysis finds the call's outcome through an index
 * (it read every outcome of the tenant); an update that keeps a row in its hour writes each rollup
 * bucket once, by difference, instead of taking the old row out and putting the new one back.
 * test/rollups.test.ts holds the equivalence on random data; here, the work itself.
 */
const TENANT = "wc"

/** Rows of `table` inserted or updated so far by this backend and not yet reported (an upsert is one or the other). */
const written = async (client: pg.Client, table: string) =>
  (await client.query<{ n: number }>(
    "select (n_tup_ins + n_tup_upd)::int as n from pg_stat_xact_user_tables where relname = $1", [table])).rows[0]!.n

/** Rows of each table that `statement` inserted or updated (counted inside one transaction). */
const touched = async (client: pg.Client, statement: string, tables: ReadonlyArray<string>) => {
  await client.query("begin")
  const counts = async () => {
    const out: Array<number> = []
    for (const table of tables) out.push(await written(client, table))
    return out
  }
  const before = await counts()
  await client.query(statement, [TENANT])
  const after = await counts()
  await client.query("commit")
  return after.map((n, i) => n - before[i]!)
}

const seed = (client: pg.Client) =>
  client.query(`insert into tenants (tenant_id, config, etag) values ($1, '{}', 'e') on conflict do nothing`, [TENANT])

describe("a call's writes", () => {
  it.scopedLive("find the call's outcome by its session through an index, not by reading the tenant's outcomes", () =>
    Effect.gen(function*() {
      const url = yield* testDatabaseUrl
      const plan = yield* withClient(url, async (client) => {
        await seed(client)
        await client.query(`insert into voice_sessions (id, tenant_id, stream_id, status, started_at)
          select gen_random_uuid(), $1, 'MZ' || g, 'completed', now() - make_interval(secs => g) from generate_series(1, 3000) g`, [TENANT])
        await client.query(`insert into voice_outcomes (id, tenant_id, voice_session_id, stream_sid, resolution, billing_status,
            outcome_source, escalated, occurred_at)
          select gen_random_uuid(), tenant_id, id, stream_id, 'resolved', 'not_billable', 'call', false, started_at
          from voice_sessions where tenant_id = $1`, [TENANT])
        await client.query("analyze voice_sessions, voice_outcomes")
        const session = (await client.query<{ id: string }>("select id from voice_sessions where tenant_id = $1 limit 1", [TENANT])).rows[0]!.id
        // The shape CallAnalysis/Records.ts sends ("classified_outcome").
        return (await client.query<{ "QUERY PLAN": unknown }>(`explain (format json)
          update voice_outcomes set primary_intent = 'x', risk_level = 'low', updated_at = now()
          where tenant_id = $1 and voice_session_id = $2`, [TENANT, session])).rows[0]!["QUERY PLAN"]
      })
      const text = JSON.stringify(plan)
      expect(text).not.toContain("Seq Scan")
      expect(text).toContain("voice_outcomes_session_idx")
    }))

  it.scopedLive("write each hourly rollup bucket once per update that keeps the row in its hour", () =>
    Effect.gen(function*() {
      const url = yield* testDatabaseUrl
      const result = yield* withClient(url, async (client) => {
        await seed(client)
        const seen = "date_trunc('hour', now()) - interval '2 hours' + interval '10 minutes'"
        // The webhook's sighting, then the record: started, ended, completed, in the same hour.
        await client.query(`insert into call_logs (id, tenant_id, call_sid, direction, first_seen_at, twilio_status)
          values (gen_random_uuid(), $1, 'CAwc1', 'inbound', ${seen}, 'ringing')`, [TENANT])
        const [callLogBuckets] = await touched(client, `update call_logs set media_started_at = first_seen_at + interval '1 second',
            media_ended_at = first_seen_at + interval '95 seconds', media_status = 'completed', end_reason = 'stop'
          where tenant_id = $1 and call_sid = 'CAwc1'`, ["call_log_hourly"])
        // The record's outcome, then the analysis's risk level: a mix value, no hourly total, changes.
        await client.query(`insert into voice_outcomes (id, tenant_id, stream_sid, resolution, billing_status, billable_sku,
            outcome_source, escalated, duration_seconds, occurred_at)
          values (gen_random_uuid(), $1, 'MZwc1', 'resolved', 'pending_emit', 'voice_ai_resolution', 'call', false, 95, ${seen})`, [TENANT])
        const [outcomeHour, outcomeMix] = await touched(client, `update voice_outcomes set primary_intent = 'billing', risk_level = 'low'
          where tenant_id = $1 and stream_sid = 'MZwc1'`, ["voice_outcome_hourly", "voice_outcome_hourly_mix"])
        const sums = (await client.query(`select
            (select jsonb_build_object('total', sum(total), 'completed', sum(completed), 'answered', sum(answered),
              'outcome_calls', sum(outcome_calls), 'duration_sum', sum(duration_sum), 'duration_count', sum(duration_count))
             from call_log_hourly where tenant_id = $1 and hour = date_trunc('hour', now()) - interval '2 hours') as hour,
            (select jsonb_build_object('total', sum(total), 'completed', sum(completed))
             from call_log_hourly where tenant_id = $1 and hour = '-infinity') as all_time,
            (select jsonb_object_agg(dimension || '=' || value, n) from (select dimension, value, sum(n)::int as n
             from voice_outcome_hourly_mix where tenant_id = $1 group by 1, 2) m) as mix,
            (select jsonb_build_object('total', sum(total), 'pending_emit', sum(pending_emit), 'duration_sum', sum(duration_sum))
             from voice_outcome_hourly where tenant_id = $1) as outcomes`, [TENANT])).rows[0]
        return { callLogBuckets, outcomeHour, outcomeMix, sums }
      })
      expect(result).toEqual({
        // One upsert for all time and one for the hour (taken out and put back: four).
        callLogBuckets: 2,
        // The hour's totals do not count a risk level: none (was two); the mix gains `low` only (was up to eight).
        outcomeHour: 0,
        outcomeMix: 1,
        sums: {
          hour: { total: 1, completed: 1, answered: 1, outcome_calls: 1, duration_sum: 94, duration_count: 1 },
          all_time: { total: 1, completed: 1 },
          mix: { "resolution=resolved": 1, "billing_status=pending_emit": 1, "billable_sku=voice_ai_resolution": 1, "risk_level=low": 1 },
          outcomes: { total: 1, pending_emit: 1, duration_sum: 95 }
        }
      })
    }))
})
