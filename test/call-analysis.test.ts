import { SqlClient } from "@effect/sql"
import { afterAll, expect } from "@effect/vitest"
import { Clock, Deferred, Effect, Fiber, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { CallRecords, type CompletedCall } from "../src/CallLogs/CallRecords.js"
import { createAgent, createVersion } from "./support/AgentFixtures.js"
import { eventually } from "./support/Eventually.js"
import { analysisAnswer, startFakeOpenAIResponses } from "./support/FakeOpenAIResponses.js"
import { startWebhookReceiver } from "./support/FakeWebhookReceiver.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, bearer, request, serverSuite } from "./support/TestServer.js"

const openai = await startFakeOpenAIResponses()
const receiver = await startWebhookReceiver()
afterAll(() => Promise.all([openai.close(), receiver.close()]))

const MAX_WAIT_SECONDS = 4
const CONFIG = {
  OPENAI_API_KEY: "sk-test-analysis-key",
  OPENAI_BASE_URL: openai.baseUrl,
  OPENAI_ANALYSIS_MODEL: "gpt-4.1-mini",
  ANALYSIS_MAX_WAIT_SECONDS: String(MAX_WAIT_SECONDS),
  ANALYSIS_MAX_ATTEMPTS: "3",
  ANALYSIS_RETRY_BASE_MS: "100",
  ANALYSIS_POLL_INTERVAL_MS: "100",
  OUTBOX_POLL_INTERVAL_MS: "200",
  ALLOW_PRIVATE_OUTBOUND_URLS: "true"
}

const token = (tenant: string) => `${tenant}-bearer-token-0123456789`

const tenants = Layer.effectDiscard(Effect.forEach(["ana-on", "ana-fail", "ana-off"], (tenant) =>
  Effect.gen(function*() {
    const res = yield* request("PUT", `/api/v1/admin/tenants/${tenant}`, {
      headers: adminHeaders,
      json: {
        tenant_id: tenant,
        auth_token: token(tenant),
        webhook_url: receiver.url(`/${tenant}`),
        ...(tenant === "ana-off" ? { call_analysis_enabled: false } : {})
      }
    })
    if (res.status !== 200) return yield* Effect.dieMessage(`${tenant}: ${res.status} ${res.text}`)
  }), { discard: true }))

/** A call the agent closed after a real exchange, as the media bridge reports it. */
const finishedCall = (tenantId: string, callSid: string, at: Date): CompletedCall => ({
  tenantId,
  streamSid: `MZ${callSid}`,
  callSid,
  direction: "inbound",
  from: "+15555550101",
  to: "+15555550199",
  agentVersionId: null,
  model: "gpt-realtime",
  voice: "alloy",
  startedAt: new Date(at.getTime() - 60_000),
  endedAt: at,
  endReason: "end_call_tool",
  errorMessage: null,
  transcript: [
    { role: "assistant", content: "Hello, how can I help?", timestamp: at },
    { role: "user", content: "Where is my order ORD-77?", timestamp: at },
    { role: "assistant", content: "It shipped yesterday and arrives Friday.", timestamp: at }
  ],
  functionCalls: [],
  turnLatencies: [],
  escalated: false,
  escalationReason: null
})

const record = (tenantId: string, callSid: string, agentVersionId: string | null = null) =>
  Effect.gen(function*() {
    const records = yield* CallRecords
    const call = finishedCall(tenantId, callSid, new Date(yield* Clock.currentTimeMillis))
    yield* records.recordCompletedCall({ ...call, agentVersionId })
  }).pipe(Effect.orDie)

const SUMMARY = "Caller asked where order ORD-77 is; the agent said it shipped yesterday."

/** The events delivered to `tenant` about stream `streamSid`. */
const delivered = (tenant: string, event: string, streamSid: string) =>
  receiver.on(`/${tenant}`).map((r) => JSON.parse(r.body)).filter((body) =>
    body.event === event && (body.data.stream_sid === streamSid || body.data.stream_id === streamSid)
  )

const jobOf = (tenant: string, streamSid: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ status: string; attempts: number; last_error: string | null }>`
      select j.status, j.attempts, j.last_error from call_analysis_jobs j
      join voice_sessions s on s.tenant_id = j.tenant_id and s.id = j.voice_session_id
      where j.tenant_id = ${tenant} and s.stream_id = ${streamSid}`).pipe(Effect.map((rows) => rows[0]), Effect.orDie)

serverSuite(CONFIG, { seed: tenants })("post-call analysis", (it) => {
  it.effect("a finished call gets its summary, labels and auto eval; the completed event carries the summary", () =>
    Effect.gen(function*() {
      const agent = yield* createAgent("ana-on", "support")
      const version = yield* createVersion("ana-on", agent.id, { instructions: "Always confirm the order number." })
      const before = openai.requests.length
      yield* record("ana-on", "CAok1", version.id)
      const [completed] = yield* eventually(Effect.sync(() => delivered("ana-on", "voice.call.completed", "MZCAok1")), (l) => l.length > 0)
      const expected = SUMMARY
      expectSpecSchema(completed, "WebhookEvent")
      expectSpecSchema(completed.data, "WebhookCallCompletedPayload")
      expect(completed.data).toMatchObject({ stream_sid: "MZCAok1", call_sid: "CAok1", summary: expected, transcript_turn_count: 3 })

      // One Responses API request: the configured model, structured output, the transcript.
      const sent = openai.requests.slice(before)
      expect(sent).toHaveLength(1)
      expect(sent[0]!.headers.authorization).toBe("Bearer sk-test-analysis-key")
      expect(sent[0]!.body).toMatchObject({ model: "gpt-4.1-mini", text: { format: { type: "json_schema", strict: true } } })
      expect(String(sent[0]!.body.input)).toContain("Caller: Where is my order ORD-77?")

      const session = yield* request("GET", "/api/v1/voice-sessions/by-stream/MZCAok1", { headers: bearer(token("ana-on")) })
      expect(session.status).toBe(200)
      expectSpecSchema(session.body, "VoiceSession")
      expect(session.body).toMatchObject({ summary: expected, sentiment: "positive" })
      const outcome = yield* request("GET", "/api/v1/voice-outcomes/by-stream/MZCAok1", { headers: bearer(token("ana-on")) })
      expectSpecSchema(outcome.body, "VoiceOutcomeDetailResponse")
      expect(outcome.body.outcome).toMatchObject({ primary_intent: "order_status", risk_level: "low" })
      const evaluation = yield* request("GET", "/api/v1/voice-session-evals/by-session/MZCAok1", { headers: bearer(token("ana-on")) })
      expect(evaluation.status).toBe(200)
      expectSpecSchema(evaluation.body, "VoiceSessionEval")
      expect(evaluation.body).toMatchObject({ source: "auto", score: 0.86, tags: ["resolved", "polite"], rubric: { source: "agent_version", agent_version_id: version.id } })
      expect(String(sent[0]!.body.instructions)).toContain("Always confirm the order number.")
      const logs = yield* request("GET", "/api/v1/call-logs?call_sid=CAok1", { headers: bearer(token("ana-on")) })
      const log = yield* request("GET", `/api/v1/call-logs/${logs.body.calls[0].id}`, { headers: bearer(token("ana-on")) })
      expectSpecSchema(log.body, "CallLogDetailResponse")
      expect(JSON.stringify(log.body)).toContain(expected)

      // voice.session.evaluated is delivered too, naming the auto eval.
      const [evaluated] = yield* eventually(Effect.sync(() => delivered("ana-on", "voice.session.evaluated", "MZCAok1")), (l) => l.length > 0)
      expectSpecSchema(evaluated, "WebhookEvent")
      expect(evaluated.data).toMatchObject({ eval_id: evaluation.body.id, score: 0.86, source: "auto" })
      expect(yield* jobOf("ana-on", "MZCAok1")).toMatchObject({ status: "done", attempts: 1 })
      // Recording the same stream again enqueues nothing new.
      yield* record("ana-on", "CAok1")
      yield* Effect.sleep("300 millis")
      expect(openai.requests.length - before).toBe(1)
    }))

  it.effect("a failing Responses API is retried with backoff, then the completed event goes with summary null within the bound", () =>
    Effect.gen(function*() {
      const before = openai.requests.length
      openai.setFallback({ _tag: "error", status: 500 })
      const started = Date.now()
      yield* record("ana-fail", "CAfail1")
      const [completed] = yield* eventually(
        Effect.sync(() => delivered("ana-fail", "voice.call.completed", "MZCAfail1")),
        (l) => l.length > 0,
        (MAX_WAIT_SECONDS + 2) * 1000
      )
      openai.setFallback(analysisAnswer())
      expect(Date.now() - started).toBeLessThan((MAX_WAIT_SECONDS + 1) * 1000)
      expectSpecSchema(completed.data, "WebhookCallCompletedPayload")
      expect(completed.data).toMatchObject({ stream_sid: "MZCAfail1", summary: null })
      expect(openai.requests.length - before).toBe(3)
      const job = yield* eventually(jobOf("ana-fail", "MZCAfail1"), (j) => j?.status === "failed")
      expect(job).toMatchObject({ status: "failed", attempts: 3 })
      expect(job!.last_error).toContain("500")
      expect(delivered("ana-fail", "voice.session.evaluated", "MZCAfail1")).toHaveLength(0)
    }))

  it.effect("a slow analysis: the completed event goes at the bound with summary null; the session still gets the summary", () =>
    Effect.gen(function*() {
      openai.script([{ _tag: "delay", ms: (MAX_WAIT_SECONDS + 1) * 1000, then: analysisAnswer() }])
      const started = Date.now()
      yield* record("ana-on", "CAslow1")
      const [completed] = yield* eventually(
        Effect.sync(() => delivered("ana-on", "voice.call.completed", "MZCAslow1")),
        (l) => l.length > 0,
        (MAX_WAIT_SECONDS + 3) * 1000
      )
      const waited = Date.now() - started
      expect(waited).toBeGreaterThanOrEqual(MAX_WAIT_SECONDS * 1000 - 500)
      expect(waited).toBeLessThan((MAX_WAIT_SECONDS + 2) * 1000)
      expect(completed.data).toMatchObject({ stream_sid: "MZCAslow1", summary: null })
      const job = yield* eventually(jobOf("ana-on", "MZCAslow1"), (j) => j?.status === "done", 5000)
      expect(job).toMatchObject({ status: "done", attempts: 1 })
      const session = yield* request("GET", "/api/v1/voice-sessions/by-stream/MZCAslow1", { headers: bearer(token("ana-on")) })
      expect(session.body.summary).toBe(SUMMARY)
      // The event already went: it is not sent again with the summary.
      expect(delivered("ana-on", "voice.call.completed", "MZCAslow1")).toHaveLength(1)
    }), { timeout: 20_000 })

  it.effect("an evaluation a person recorded before the analysis finished is kept", () =>
    Effect.gen(function*() {
      openai.script([{ _tag: "delay", ms: 1000, then: analysisAnswer() }])
      yield* record("ana-on", "CAmanual1")
      const manual = yield* request("POST", "/api/v1/automations/voice/evaluation", {
        headers: bearer(token("ana-on")),
        json: { session_id: "MZCAmanual1", score: 0.4, tags: ["reviewed"] }
      })
      expect(manual.status).toBe(200)
      yield* eventually(jobOf("ana-on", "MZCAmanual1"), (j) => j?.status === "done", 5000)
      const evaluation = yield* request("GET", "/api/v1/voice-session-evals/by-session/MZCAmanual1", { headers: bearer(token("ana-on")) })
      expect(evaluation.body).toMatchObject({ score: 0.4, source: "automation", tags: ["reviewed"] })
      const session = yield* request("GET", "/api/v1/voice-sessions/by-stream/MZCAmanual1", { headers: bearer(token("ana-on")) })
      expect(session.body.summary).toBe(SUMMARY)
    }))

  it.effect("a person's evaluation committed while the analysis writes its own is kept (the write is one guarded statement)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      openai.script([{ _tag: "delay", ms: 300, then: analysisAnswer() }])
      yield* record("ana-on", "CArace1")
      const [session] = yield* sql<{ id: string }>`select id from voice_sessions where tenant_id = 'ana-on' and stream_id = 'MZCArace1'`
      // A reviewer's evaluation, written in a transaction held open until the analysis's write waits on it.
      const inserted = yield* Deferred.make<void>()
      const commit = yield* Deferred.make<void>()
      const reviewer = yield* sql.withTransaction(Effect.gen(function*() {
        yield* sql`insert into voice_session_evals (id, tenant_id, voice_session_id, stream_id, score, tags, source)
          values (${randomUUID()}, 'ana-on', ${session!.id}, 'MZCArace1', 0.3, ${["reviewed"]}::text[], 'reviewer')`
        yield* Deferred.succeed(inserted, undefined)
        yield* Deferred.await(commit)
      })).pipe(Effect.fork)
      yield* Deferred.await(inserted)
      const waiting = sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
        where wait_event_type = 'Lock' and query ilike '%insert into voice_session_evals%' and pid <> pg_backend_pid()`
      yield* eventually(Effect.map(waiting, (rows) => rows[0]!.n), (n) => n > 0, 5000)
      yield* Deferred.succeed(commit, undefined)
      yield* Fiber.join(reviewer)

      yield* eventually(jobOf("ana-on", "MZCArace1"), (j) => j?.status === "done", 5000)
      const evaluation = yield* request("GET", "/api/v1/voice-session-evals/by-session/MZCArace1", { headers: bearer(token("ana-on")) })
      expect(evaluation.body).toMatchObject({ score: 0.3, source: "reviewer", tags: ["reviewed"] })
      // The analysis still finished (summary written) and announced no evaluation of its own.
      yield* eventually(Effect.sync(() => delivered("ana-on", "voice.call.completed", "MZCArace1")), (l) => l.length > 0)
      const events = yield* sql<{ n: number }>`select count(*)::int as n from webhook_outbox
        where tenant_id = 'ana-on' and event = 'voice.session.evaluated' and payload->'data'->>'stream_id' = 'MZCArace1'`
      expect(events[0]!.n).toBe(0)
    }))

  it.effect("an answer that does not match the schema is a failed attempt; the next good one is used", () =>
    Effect.gen(function*() {
      openai.script([{ _tag: "json", value: { summary: "x", sentiment: "ecstatic" } }])
      yield* record("ana-on", "CAbad1")
      const [completed] = yield* eventually(Effect.sync(() => delivered("ana-on", "voice.call.completed", "MZCAbad1")), (l) => l.length > 0)
      expect(completed.data.summary).toBe(SUMMARY)
      const job = yield* jobOf("ana-on", "MZCAbad1")
      expect(job).toMatchObject({ status: "done", attempts: 2 })
    }))

  it.effect("a tenant with analysis off: no request, no job, the completed event goes at once", () =>
    Effect.gen(function*() {
      const before = openai.requests.length
      yield* record("ana-off", "CAoff1")
      const [completed] = yield* eventually(Effect.sync(() => delivered("ana-off", "voice.call.completed", "MZCAoff1")), (l) => l.length > 0)
      expect(completed.data).toMatchObject({ summary: null })
      expect(yield* jobOf("ana-off", "MZCAoff1")).toBeUndefined()
      expect(openai.requests.length).toBe(before)
    }))

  it.effect("a bad call_analysis_enabled value is refused naming the key", () =>
    Effect.gen(function*() {
      const res = yield* request("PUT", "/api/v1/admin/tenants/ana-bad", {
        headers: adminHeaders,
        json: { tenant_id: "ana-bad", call_analysis_enabled: "nope" }
      })
      expect(res.status).toBe(400)
      expect(res.text).toContain("call_analysis_enabled")
    }))
})

serverSuite({ ...CONFIG, OPENAI_API_KEY: "" }, { seed: tenants })("post-call analysis without OPENAI_API_KEY", (it) => {
  it.effect("no job and no request; the completed event is not held", () =>
    Effect.gen(function*() {
      const before = openai.requests.length
      yield* record("ana-on", "CAnokey1")
      const [completed] = yield* eventually(Effect.sync(() => delivered("ana-on", "voice.call.completed", "MZCAnokey1")), (l) => l.length > 0)
      expect(completed.data.summary).toBeNull()
      expect(yield* jobOf("ana-on", "MZCAnokey1")).toBeUndefined()
      expect(openai.requests.length).toBe(before)
    }))
})
