import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import pg from "pg"
import { inject } from "vitest"
import { eventually } from "./support/Eventually.js"
import { FakeOpenAI } from "./support/FakeOpenAIRealtime.js"
import { dial, frame, MediaSuite, newCall, promise } from "./support/MediaCalls.js"

/**
 * Issue 7, row 5: the service's PostgreSQL connections are terminated over and over (from a
 * connection of our own, every 50-500 ms) while calls run and end. Every call that ran must
 * be recorded exactly once (call log, voice session, outcome) and leave the live-call ledger.
 */

const CALLS = 16
const CONCURRENCY = 4

/** Terminates every other backend of `database` at random intervals until stopped. */
const startKiller = (database: string, minMs: number, maxMs: number) =>
  Effect.promise(async () => {
    const client = new pg.Client({ connectionString: inject("postgresAdminUrl") })
    await client.connect()
    let running = true
    let kills = 0
    const loop = (async () => {
      while (running) {
        await new Promise((resolve) => setTimeout(resolve, minMs + Math.floor(Math.random() * (maxMs - minMs))))
        const result = await client.query(
          "select count(*) filter (where pg_terminate_backend(pid)) as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()",
          [database]
        )
        kills += Number(result.rows[0]?.n ?? 0)
      }
    })()
    let stopped: Promise<number> | undefined
    return {
      stop: () =>
        (stopped ??= (async () => {
          running = false
          await loop
          await client.end()
          return kills
        })())
    }
  })

interface Counts {
  readonly stream_sid: string
  readonly logs: number
  readonly sessions: number
  readonly outcomes: number
  readonly live: number
}

const countsFor = (streamSids: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    return yield* sql<Counts>`
      select s.stream_sid,
        (select count(*)::int from call_logs c where c.tenant_id = 'acme' and c.stream_sid = s.stream_sid) as logs,
        (select count(*)::int from voice_sessions v where v.tenant_id = 'acme' and v.stream_id = s.stream_sid) as sessions,
        (select count(*)::int from voice_outcomes o where o.tenant_id = 'acme' and o.stream_sid = s.stream_sid) as outcomes,
        (select count(*)::int from live_calls l where l.tenant_id = 'acme' and l.stream_sid = s.stream_sid) as live
      from unnest(${streamSids}::text[]) as s(stream_sid)`
  }).pipe(Effect.orElseSucceed((): ReadonlyArray<Counts> => []))

/** One call as Twilio runs it: start, hear the greeting, hang up. Whether it ran (the greeting came). */
const oneCall = Effect.gen(function*() {
  const call = yield* newCall()
  const client = yield* Effect.either(dial(call))
  if (client._tag === "Left") return { streamSid: call.streamSid, ran: false }
  const heard = yield* promise(() =>
    client.right.waitFor("the greeting", () => client.right.of("media").length >= 1, 5_000).then(() => true, () => false)
  )
  client.right.stop()
  yield* promise(() => client.right.closed)
  return { streamSid: call.streamSid, ran: heard }
})

const callsUnderFaults = (minMs: number, maxMs: number, minRan: number) =>
  Effect.gen(function*() {
    const fake = yield* FakeOpenAI
    fake.onResponseCreate = (connection) => connection.reply({ audio: [frame(1)], transcript: "Hello!" })
    const sql = yield* SqlClient.SqlClient
    const database = yield* sql<{ name: string }>`select current_database() as name`.pipe(Effect.orDie)
    const killer = yield* startKiller(database[0]!.name, minMs, maxMs)
    const results = yield* Effect.forEach(Array.from({ length: CALLS }), () => oneCall, { concurrency: CONCURRENCY })
      .pipe(Effect.onExit(() => Effect.promise(() => killer.stop())))
    const kills = yield* Effect.promise(() => killer.stop())
    const ran = results.filter((r) => r.ran).map((r) => r.streamSid)
    // Enough calls must run at all (starting one needs the database too), or the test proves nothing.
    expect(ran.length).toBeGreaterThanOrEqual(minRan)

    const counts = yield* eventually(
      countsFor(results.map((r) => r.streamSid)),
      (rows) =>
        rows.length === CALLS &&
        rows.every((row) => row.live === 0 && (ran.includes(row.stream_sid) ? row.logs === 1 : row.logs <= 1)),
      45_000
    )
    for (const row of counts) {
      expect(row.live, `${row.stream_sid} left in the ledger`).toBe(0)
      if (ran.includes(row.stream_sid)) {
        expect(row, `${row.stream_sid} ran`).toMatchObject({ logs: 1, sessions: 1, outcomes: 1 })
      } else {
        expect(row.logs).toBeLessThanOrEqual(1)
        expect(row.sessions).toBe(row.logs)
        expect(row.outcomes).toBe(row.logs)
      }
    }
    return { ran: ran.length, kills }
  })

layer(MediaSuite({ MEDIA_HEARTBEAT_SECONDS: "1", MEDIA_REAP_AFTER_SECONDS: "3" }), { excludeTestServices: true })(
  "call records under database faults",
  (it) => {
    it.effect("every call that ran is recorded exactly once while connections are killed every 50-500 ms", () =>
      Effect.gen(function*() {
        const { kills, ran } = yield* callsUnderFaults(50, 500, CALLS / 2)
        yield* Effect.logWarning("faults: 50-500 ms").pipe(Effect.annotateLogs({ calls: CALLS, ran, kills }))
      }), 120_000)

    it.effect("and while they are killed every 50 ms", () =>
      Effect.gen(function*() {
        const { kills, ran } = yield* callsUnderFaults(50, 51, 3)
        yield* Effect.logWarning("faults: 50 ms").pipe(Effect.annotateLogs({ calls: CALLS, ran, kills }))
      }), 120_000)
  }
)
