import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { opsOf } from "./support/OpCount.js"
import { CallRecords, type CompletedCall } from "../src/CallLogs/CallRecords.js"
import { putTenant } from "./support/FakeTwilioServer.js"
import { serverSuite } from "./support/TestServer.js"

// The end-of-call record with every part in (call log, session, outcome, `voice.call.completed`
// held for the analysis job, the tasks of a callback request and a voicemail rule, the default
// queue, the task event): the rows it writes, and the Effect operations it takes to build and run.

const T = "rc-all"
const t0 = new Date("2026-03-02T10:00:00.000Z")
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000)

const Tenant = Layer.effectDiscard(putTenant(T, { webhook_url: "http://127.0.0.1:9/rc", org_id: "org-rc" }))

const call = (n: number): CompletedCall => ({
  tenantId: T, streamSid: `MZ${String(n).padStart(32, "0")}`, callSid: `CA${String(n).padStart(32, "0")}`, direction: "inbound",
  from: "+15551110001", to: "+15550008000", agentVersionId: null, model: "gpt-realtime", voice: "verse",
  startedAt: at(0), endedAt: at(60), endReason: "caller_hangup", errorMessage: null,
  transcript: [
    { role: "assistant", content: "Hello, how can I help?", timestamp: at(1) },
    { role: "user", content: "Please call me back tomorrow.", timestamp: at(10) }
  ],
  functionCalls: [{
    name: "request_callback", arguments: { callback_at: "2026-03-03T10:00:00Z" }, result: { ok: true },
    durationMs: 3, timestamp: at(20)
  }],
  turnLatencies: [{ llmFirstTokenMs: 300, firstAudioMs: 500 }],
  escalated: false, escalationReason: null, systemPromptKey: "support"
})


const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|msg_[0-9a-f]{32}/g
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})/g
const FIXED = new Set([t0, at(1), at(10), at(20), at(60), new Date("2026-03-03T10:00:00Z")].map((d) => d.getTime()))

/**
 * The rows as JSON with what differs between runs replaced: each id by its order of appearance
 * (so which row points at which still shows), each time not from the call itself by `<now>`.
 */
const normalized = (rows: unknown) => {
  const ids = new Map<string, string>()
  return JSON.stringify(rows, (_key, value) => value instanceof Date ? value.toISOString() : value, 1)
    .replace(UUID, (id) => {
      if (!ids.has(id)) ids.set(id, `${id.startsWith("msg_") ? "msg" : "id"}#${ids.size + 1}`)
      return ids.get(id)!
    })
    .replace(ISO, (time) => FIXED.has(Date.parse(time)) ? new Date(time).toISOString() : "<now>")
}

serverSuite({ ALLOW_PRIVATE_OUTBOUND_URLS: "true", OPENAI_API_KEY: "sk-test", ANALYSIS_WORKER_ENABLED: "false", OUTBOX_WORKER_ENABLED: "false" }, { seed: Tenant })(
  "the end-of-call record with every part",
  (it) => {
    it.effect("writes the same rows as before its parts were built as plain code", () =>
      Effect.gen(function*() {
        const records = yield* CallRecords
        const sql = yield* SqlClient.SqlClient
        expect(yield* records.recordCompletedCall(call(1))).toBe(true)
        const log = sql`select id from call_logs where tenant_id = ${T}`
        const tables = {
          call_logs: yield* sql`select * from call_logs where tenant_id = ${T}`,
          voice_sessions: yield* sql`select * from voice_sessions where tenant_id = ${T}`,
          voice_outcomes: yield* sql`select * from voice_outcomes where tenant_id = ${T}`,
          webhook_outbox: yield* sql`select * from webhook_outbox where tenant_id = ${T} order by event`,
          call_analysis_jobs: yield* sql`select * from call_analysis_jobs where tenant_id = ${T}`,
          callback_tasks: yield* sql`select * from callback_tasks where tenant_id = ${T} order by disposition`,
          operator_queues: yield* sql`select * from operator_queues where tenant_id = ${T}`
        }
        expect(tables.call_logs).toHaveLength(1)
        expect(yield* sql`select count(*)::int as n from voice_sessions where call_log_id in (${log})`).toEqual([{ n: 1 }])
        expect(tables.webhook_outbox.map((row) => row.event)).toEqual(["voice.call.completed", "voice.callback_task.created"])
        expect(tables.call_analysis_jobs).toHaveLength(1)
        expect(tables.callback_tasks.map((row) => row.disposition)).toEqual(["callback_scheduled"])
        // Made by the tree before this change (its own ids and times normalized the same way).
        yield* Effect.promise(() => expect(normalized(tables)).toMatchFileSnapshot("__snapshots__/call-records-cost.rows.json"))
      }))

    it.effect("builds and runs it in few Effect operations: one clock read, one tenant-cache hit, the statement", () =>
      Effect.gen(function*() {
        const records = yield* CallRecords
        const nothing = yield* opsOf(Effect.void)
        const counted = yield* opsOf(records.recordCompletedCall(call(2)))
        expect(counted.result).toBe(true)
        // 100 before (an Effect per part, a clock read and a tenant-cache lookup in each, the span's
        // provide); 54 here (its parts are plain code, its text kept per shape), of which the
        // statement's execution is about 25.
        expect(counted.ops - nothing.ops).toBeLessThanOrEqual(54)
      }))
  }
)
