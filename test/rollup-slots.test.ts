import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import pg from "pg"
import { testDatabaseUrl } from "./support/TestDatabase.js"

/**
 * A tenant's rollup rows (migration 0010) are written by every call-log, outcome and evaluation
 * write of that tenant; held until commit, they made the tenant's writers commit one at a time
 * (a call's first sighting, under the admission lock, waited for another call's record).
 * Migration 0032 gives each connection its own slot: a write on another connection goes through
 * while the first is still open. The bound is the second connection's statement_timeout: it is
 * only reached by a write that waits for the open transaction.
 */
const SLOTS = 16
const TENANT = "slots"
const SESSIONS = [randomUUID(), randomUUID()] as const

/** A connection whose backend writes another slot than `other`'s (pids congruent mod 16 share one). */
const connectOtherSlot = async (url: string, otherSlot: number) => {
  for (;;) {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    const pid = (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid
    if (pid % SLOTS !== otherSlot) return client
    await client.end()
  }
}

const callLogSeen = (client: pg.Client, callSid: string) =>
  client.query("select call_log_seen($1, $2, $3, 'inbound', '+15550001111', '+15550002222', null, 'ringing', now())",
    [randomUUID(), TENANT, callSid])

const outcome = (client: pg.Client, streamSid: string) =>
  client.query(`insert into voice_outcomes (id, tenant_id, stream_sid, resolution, billing_status, outcome_source,
      escalated, risk_level, duration_seconds, occurred_at)
    values ($1, $2, $3, 'resolved', 'pending_emit', 'model', false, 'low', 42, now())`, [randomUUID(), TENANT, streamSid])

/** The evaluation of `session` (one per session: two writers evaluate two sessions). */
const evaluation = (client: pg.Client, session: string) =>
  client.query(`insert into voice_session_evals (id, tenant_id, voice_session_id, score) values ($1, $2, $3, 0.9)`,
    [randomUUID(), TENANT, session])

/** `write` on `writer` while `holder` has written the same kind of row of the tenant and not committed. */
const whileHeld = async (holder: pg.Client, writer: pg.Client, held: () => Promise<unknown>, write: () => Promise<unknown>) => {
  await holder.query("begin")
  try {
    await held()
    await writer.query("set statement_timeout = '2s'")
    // Fails with "canceling statement due to statement timeout" when it waits for the holder.
    await write()
    await writer.query("reset statement_timeout")
  } finally {
    await holder.query("commit")
  }
}

describe("rollup slots", () => {
  it.scopedLive("a tenant's call-log, outcome and evaluation writes do not wait for another open transaction's", () =>
    Effect.gen(function*() {
      const url = yield* testDatabaseUrl
      yield* Effect.promise(async () => {
        const holder = new pg.Client({ connectionString: url })
        await holder.connect()
        const holderPid = (await holder.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid
        const writer = await connectOtherSlot(url, holderPid % SLOTS)
        try {
          await holder.query("insert into tenants (tenant_id, config, etag) values ($1, '{}', 'e')", [TENANT])
          await holder.query(`insert into voice_sessions (id, tenant_id, stream_id, status, started_at)
            select id, $2, 'MZ-' || id, 'completed', now() from unnest($1::uuid[]) id`, [SESSIONS, TENANT])
          await whileHeld(holder, writer, () => callLogSeen(holder, "CA-held"), () => callLogSeen(writer, "CA-other"))
          await whileHeld(holder, writer, () => outcome(holder, "MZ-held"), () => outcome(writer, "MZ-other"))
          await whileHeld(holder, writer, () => evaluation(holder, SESSIONS[0]), () => evaluation(writer, SESSIONS[1]))

          // Both writes counted, each in its connection's slot; the readers sum them.
          const sums = await holder.query<{ calls: string; call_slots: string; outcomes: string; mix: string; evals: string }>(`
            select (select sum(total) from call_log_hourly where tenant_id = $1 and hour = '-infinity') as calls,
              (select count(*) from call_log_hourly where tenant_id = $1 and hour = '-infinity') as call_slots,
              (select sum(total) from voice_outcome_hourly where tenant_id = $1) as outcomes,
              (select sum(n) from voice_outcome_hourly_mix where tenant_id = $1 and dimension = 'risk_level') as mix,
              (select sum(n) from voice_session_eval_hourly where tenant_id = $1 and hour = '-infinity') as evals`, [TENANT])
          expect(sums.rows[0]).toEqual({ calls: "2", call_slots: "2", outcomes: "2", mix: "2", evals: "2" })
        } finally {
          await writer.end()
          await holder.end()
        }
      })
    }))
})
