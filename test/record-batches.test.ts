import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Either, Fiber, Layer } from "effect"
import pg from "pg"
import { inject } from "vitest"
import { CallRecords, type CompletedCall } from "../src/CallLogs/CallRecords.js"
import { retryingWrite } from "../src/Database/Retry.js"
import { LiveCallsRepo } from "../src/LiveCalls/Repo.js"
import { putTenant } from "./support/FakeTwilioServer.js"
import { namedLiveCall } from "./support/LiveCallFixtures.js"
import { databaseProxy } from "./support/TcpProxy.js"
import { makeTestServer } from "./support/TestServer.js"

/**
 * Calls' records at their end share statements when they end together (CallLogs/RecordBatches.ts,
 * Database/SharedStatement.ts): each call still gets exactly its own record, session, outcome,
 * analysis job, task, webhook events and ledger delete, once. Statements are counted by the
 * transactions that wrote the call logs (`xmin`): one per statement.
 */

const database = databaseProxy()
const TENANT = "recbatch"

// A tenant with every part of the record: webhook events, analysis jobs (held event), call-rule tasks.
const Suite = Layer.merge(
  Layer.effectDiscard(putTenant(TENANT, { webhook_url: "http://127.0.0.1:9/recbatch" })),
  LiveCallsRepo.Default
).pipe(
  Layer.provideMerge(makeTestServer({
    OPENAI_API_KEY: "sk-record-batches",
    ANALYSIS_WORKER_ENABLED: "false",
    OUTBOX_WORKER_ENABLED: "false",
    ALLOW_PRIVATE_OUTBOUND_URLS: "true"
  }, { viaDatabaseUrl: database.viaDatabaseUrl }))
)

const completed = (name: string, overrides: Partial<CompletedCall> = {}): CompletedCall => ({
  tenantId: TENANT,
  streamSid: `MZ-${name}`,
  callSid: `CA-${name}`,
  direction: "inbound",
  from: "+15550001111",
  to: "+15550002222",
  agentVersionId: null,
  model: "gpt-realtime",
  voice: "alloy",
  startedAt: new Date(Date.now() - 30_000),
  endedAt: new Date(),
  endReason: "caller_hangup",
  errorMessage: null,
  // The caller only: "abandoned", which makes a customer_abandoned task.
  transcript: [{ role: "user", content: `hello from ${name}`, timestamp: new Date() }],
  functionCalls: [],
  turnLatencies: [],
  escalated: false,
  escalationReason: null,
  ...overrides
})

/** Ledger rows for the calls (as their stream starts wrote them). */
const holdAll = (names: ReadonlyArray<string>) =>
  Effect.flatMap(LiveCallsRepo, (repo) =>
    repo.insertRedeemingBatch(names.map((name) => ({
      call: namedLiveCall(TENANT, name),
      use: { tokenId: `tok-${name}`, tenantId: TENANT, callSid: `CA-${name}`, expiresAt: new Date(Date.now() + 60_000) }
    })), "replica-recbatch"))

/** The record with its ledger delete, as a call's closing runs it. */
const recordOf = (name: string, overrides: Partial<CompletedCall> = {}) =>
  Effect.flatMap(LiveCallsRepo, (repo) =>
    Effect.flatMap(CallRecords, (records) =>
      records.recordCompletedCall(completed(name, overrides), [repo.removalPart(TENANT, `MZ-${name}`)])))

interface Rows {
  readonly stream_sid: string
  readonly logs: number
  readonly sessions: number
  readonly outcomes: number
  readonly jobs: number
  readonly tasks: number
  readonly completed_events: number
  readonly task_events: number
  readonly live: number
}

/** What each call has, and how many statements wrote their call logs. */
const rowsOf = (names: ReadonlyArray<string>) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.all({
      rows: sql<Rows>`
        select s.stream_sid,
          (select count(*)::int from call_logs c where c.tenant_id = ${TENANT} and c.stream_sid = s.stream_sid) as logs,
          (select count(*)::int from voice_sessions v where v.tenant_id = ${TENANT} and v.stream_id = s.stream_sid) as sessions,
          (select count(*)::int from voice_outcomes o where o.tenant_id = ${TENANT} and o.stream_sid = s.stream_sid) as outcomes,
          (select count(*)::int from call_analysis_jobs j join voice_sessions v on v.id = j.voice_session_id
            where v.tenant_id = ${TENANT} and v.stream_id = s.stream_sid) as jobs,
          (select count(*)::int from callback_tasks t where t.tenant_id = ${TENANT} and t.stream_sid = s.stream_sid) as tasks,
          (select count(*)::int from webhook_outbox w where w.tenant_id = ${TENANT} and w.event = 'voice.call.completed'
            and w.payload->'data'->>'stream_sid' = s.stream_sid) as completed_events,
          (select count(*)::int from webhook_outbox w where w.tenant_id = ${TENANT} and w.event = 'voice.callback_task.created'
            and w.payload->'data'->>'stream_sid' = s.stream_sid) as task_events,
          (select count(*)::int from live_calls l where l.tenant_id = ${TENANT} and l.stream_sid = s.stream_sid) as live
        from unnest(${names.map((name) => `MZ-${name}`)}::text[]) as s(stream_sid) order by 1`,
      statements: sql<{ n: number }>`
        select count(distinct xmin::text)::int as n from call_logs
        where tenant_id = ${TENANT} and stream_sid = any(${names.map((name) => `MZ-${name}`)}::text[])`
    })).pipe(Effect.map(({ rows, statements }) => ({ rows, statements: statements[0]!.n })))

const once = (name: string): Rows => ({
  stream_sid: `MZ-${name}`,
  logs: 1,
  sessions: 1,
  outcomes: 1,
  jobs: 1,
  tasks: 1,
  completed_events: 1,
  task_events: 1,
  live: 0
})

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(2, "0")}`)

layer(Suite, { excludeTestServices: true })("calls' records in shared statements", (it) => {
  it.effect("many calls ending at once share statements; each has its own record, session, outcome, job, task, events and ledger delete, once", () =>
    Effect.gen(function*() {
      const calls = names("many", 24)
      yield* holdAll(calls)
      const written = yield* Effect.forEach(calls, (name) => recordOf(name), { concurrency: "unbounded" })
      expect(written).toEqual(calls.map(() => true))
      const after = yield* rowsOf(calls)
      expect(after.rows).toEqual(calls.map(once))
      // A statement per call before: the first goes alone, the others queue behind it and share.
      expect(after.statements).toBeLessThanOrEqual(4)
      const callLogs = yield* Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql<{ stream_sid: string; call_sid: string; transcript_text: string }>`
          select stream_sid, call_sid, transcript_text from call_logs where tenant_id = ${TENANT} and stream_sid like 'MZ-many-%' order by 1`)
      expect(callLogs).toEqual(calls.map((name) => ({ stream_sid: `MZ-${name}`, call_sid: `CA-${name}`, transcript_text: `hello from ${name}` })))

      // Recorded again together (a retry after a lost answer): nothing written twice.
      const again = yield* Effect.forEach(calls, (name) => recordOf(name), { concurrency: "unbounded" })
      expect(again).toEqual(calls.map(() => false))
      expect((yield* rowsOf(calls)).rows).toEqual(calls.map(once))
    }))

  it.effect("two ends of one stream queued together go in separate statements: recorded once", () =>
    Effect.gen(function*() {
      const calls = ["dup-a", "dup-b", "dup-filler"]
      yield* holdAll(calls)
      const written = yield* Effect.forEach(["dup-filler", "dup-a", "dup-a", "dup-b"], (name) => recordOf(name), { concurrency: "unbounded" })
      // The two of dup-a: one wrote the record, the other found it written.
      expect([written[0], written[1]! !== written[2]!, written[3]]).toEqual([true, true, true])
      expect((yield* rowsOf(calls)).rows).toEqual(calls.map(once))
    }))

  it.effect("a record PostgreSQL refuses (a NUL in its transcript) fails alone: the others of its statement are recorded", () =>
    Effect.gen(function*() {
      const calls = names("poison", 6)
      yield* holdAll(calls)
      const results = yield* Effect.forEach(calls, (name) =>
        Effect.either(recordOf(name, name === "poison-03" ? { transcript: [{ role: "user", content: "bad\u0000text", timestamp: new Date() }] } : {})), { concurrency: "unbounded" })
      expect(results.map((result) => Either.isLeft(result) ? result.left._tag : result.right)).toEqual([true, true, true, "InvalidInput", true, true])
      const after = yield* rowsOf(calls)
      expect(after.rows).toEqual(calls.map((name) => name === "poison-03"
        ? { stream_sid: `MZ-${name}`, logs: 0, sessions: 0, outcomes: 0, jobs: 0, tasks: 0, completed_events: 0, task_events: 0, live: 1 }
        : once(name)))
    }))

  it.effect("the database lost while a shared statement waits: each call, retried as a closing retries it, is recorded once", () =>
    Effect.gen(function*() {
      const calls = names("down", 8)
      yield* holdAll(calls)
      // Sessions of our own hold the ledger rows: the first record (alone) waits on the first row,
      // the others queue behind it, then their shared statement waits on theirs.
      const admin = inject("postgresAdminUrl")
      const sql = yield* SqlClient.SqlClient
      const [{ db }] = yield* sql<{ db: string }>`select current_database() as db`
      const url = new URL(admin)
      url.pathname = `/${db}`
      const lockers = yield* Effect.promise(async () => {
        const first = new pg.Client({ connectionString: url.toString() })
        const rest = new pg.Client({ connectionString: url.toString() })
        await first.connect()
        await rest.connect()
        await first.query("begin")
        await first.query("select 1 from live_calls where tenant_id = $1 and stream_sid = $2 for update", [TENANT, "MZ-down-00"])
        await rest.query("begin")
        await rest.query("select 1 from live_calls where tenant_id = $1 and stream_sid = any($2) for update", [TENANT, calls.slice(1).map((name) => `MZ-${name}`)])
        return { first, rest }
      })
      const fibers = yield* Effect.forEach(calls, (name) => Effect.fork(retryingWrite(recordOf(name), "20 seconds")))
      yield* Effect.sleep("200 millis")
      // The first commits; the shared statement is sent and waits on the other rows.
      yield* Effect.promise(() => lockers.first.query("commit"))
      yield* Effect.sleep("200 millis")
      yield* database.current().cut
      // Its connection gone, the statement still runs to its commit once the rows are free: its answer is lost.
      yield* Effect.promise(() => lockers.rest.query("commit"))
      yield* Effect.sleep("300 millis")
      yield* database.current().restore
      const written = yield* Effect.forEach(fibers, Fiber.join)
      expect(written[0]).toBe(true)
      yield* Effect.promise(() => Promise.all([lockers.first.end(), lockers.rest.end()]))
      expect((yield* rowsOf(calls)).rows).toEqual(calls.map(once))
    }))
})
