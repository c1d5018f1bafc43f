import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer } from "effect"
import { randomUUID } from "node:crypto"
import { createAgent, createVersion } from "./support/AgentFixtures.js"
import {
  analysisToken,
  jobOf,
  recordFinishedCall,
  startAnalysisFakes,
  SUMMARY
} from "./support/CallAnalysisFixtures.js"
import { eventually, eventuallyHolds } from "./support/Eventually.js"
import { analysisAnswer } from "./support/FakeOpenAIResponses.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, bearer, request, serverSuite } from "./support/TestServer.js"

const { config, delivered, openai, putTenant } = await startAnalysisFakes()

const MAX_WAIT_SECONDS = 4
const CONFIG = {
  ...config,
  OPENAI_ANALYSIS_MODEL: "gpt-4.1-mini",
  ANALYSIS_MAX_WAIT_SECONDS: String(MAX_WAIT_SECONDS),
  ANALYSIS_MAX_ATTEMPTS: "3",
  ANALYSIS_RETRY_BASE_MS: "100"
}

const tenants = Layer.effectDiscard(Effect.all([
  putTenant("ana-on"),
  putTenant("ana-fail"),
  putTenant("ana-off", { call_analysis_enabled: false })
], { discard: true }))

serverSuite(CONFIG, { seed: tenants })("post-call analysis", (it) => {
  it.effect("a finished call gets its summary, labels and auto eval; the completed event carries the summary", () =>
    Effect.gen(function*() {
      const agent = yield* createAgent("ana-on", "support")
      const version = yield* createVersion("ana-on", agent.id, { instructions: "Always confirm the order number." })
      const before = openai.requests.length
      yield* recordFinishedCall("ana-on", "CAok1", version.id)
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

      const session = yield* request("GET", "/api/v1/voice-sessions/by-stream/MZCAok1", { headers: bearer(analysisToken("ana-on")) })
      expect(session.status).toBe(200)
      expectSpecSchema(session.body, "VoiceSession")
      expect(session.body).toMatchObject({ summary: expected, sentiment: "positive" })
      const outcome = yield* request("GET", "/api/v1/voice-outcomes/by-stream/MZCAok1", { headers: bearer(analysisToken("ana-on")) })
      expectSpecSchema(outcome.body, "VoiceOutcomeDetailResponse")
      expect(outcome.body.outcome).toMatchObject({ primary_intent: "order_status", risk_level: "low" })
      const evaluation = yield* request("GET", "/api/v1/voice-session-evals/by-session/MZCAok1", { headers: bearer(analysisToken("ana-on")) })
      expect(evaluation.status).toBe(200)
      expectSpecSchema(evaluation.body, "VoiceSessionEval")
      expect(evaluation.body).toMatchObject({ source: "auto", score: 0.86, tags: ["resolved", "polite"], rubric: { source: "agent_version", agent_version_id: version.id } })
      expect(String(sent[0]!.body.instructions)).toContain("Always confirm the order number.")
      const logs = yield* request("GET", "/api/v1/call-logs?call_sid=CAok1", { headers: bearer(analysisToken("ana-on")) })
      const log = yield* request("GET", `/api/v1/call-logs/${logs.body.calls[0].id}`, { headers: bearer(analysisToken("ana-on")) })
      expectSpecSchema(log.body, "CallLogDetailResponse")
      expect(JSON.stringify(log.body)).toContain(expected)

      // voice.session.evaluated is delivered too, naming the auto eval.
      const [evaluated] = yield* eventually(Effect.sync(() => delivered("ana-on", "voice.session.evaluated", "MZCAok1")), (l) => l.length > 0)
      expectSpecSchema(evaluated, "WebhookEvent")
      expect(evaluated.data).toMatchObject({ eval_id: evaluation.body.id, score: 0.86, source: "auto" })
      expect(yield* jobOf("ana-on", "MZCAok1")).toMatchObject({ status: "done", attempts: 1 })
      // Recording the same stream again enqueues nothing new.
      yield* recordFinishedCall("ana-on", "CAok1")
      yield* Effect.sleep("300 millis")
      expect(openai.requests.length - before).toBe(1)
    }))

  it.effect("a failing Responses API is retried with backoff, then the completed event goes with summary null within the bound", () =>
    Effect.gen(function*() {
      const before = openai.requests.length
      openai.setFallback({ _tag: "error", status: 500 })
      const started = Date.now()
      yield* recordFinishedCall("ana-fail", "CAfail1")
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
      yield* recordFinishedCall("ana-on", "CAslow1")
      const [completed] = yield* eventually(
        Effect.sync(() => delivered("ana-on", "voice.call.completed", "MZCAslow1")),
        (l) => l.length > 0,
        (MAX_WAIT_SECONDS + 3) * 1000
      )
      const waited = Date.now() - started
      expect(waited).toBeGreaterThanOrEqual(MAX_WAIT_SECONDS * 1000 - 500)
      expect(waited).toBeLessThan((MAX_WAIT_SECONDS + 2) * 1000)
      expect(completed.data).toMatchObject({ stream_sid: "MZCAslow1", summary: null })
      const job = yield* eventually(jobOf("ana-on", "MZCAslow1"), (j) => j?.status === "done")
      expect(job).toMatchObject({ status: "done", attempts: 1 })
      const session = yield* request("GET", "/api/v1/voice-sessions/by-stream/MZCAslow1", { headers: bearer(analysisToken("ana-on")) })
      expect(session.body.summary).toBe(SUMMARY)
      // The event already went: it is not sent again with the summary.
      expect(delivered("ana-on", "voice.call.completed", "MZCAslow1")).toHaveLength(1)
    }), { timeout: 20_000 })

  it.effect("an evaluation a person recorded before the analysis finished is kept", () =>
    Effect.gen(function*() {
      openai.script([{ _tag: "delay", ms: 1000, then: analysisAnswer() }])
      yield* recordFinishedCall("ana-on", "CAmanual1")
      const manual = yield* request("POST", "/api/v1/automations/voice/evaluation", {
        headers: bearer(analysisToken("ana-on")),
        json: { session_id: "MZCAmanual1", score: 0.4, tags: ["reviewed"] }
      })
      expect(manual.status).toBe(200)
      yield* eventuallyHolds(jobOf("ana-on", "MZCAmanual1"), (j) => j?.status === "done")
      const evaluation = yield* request("GET", "/api/v1/voice-session-evals/by-session/MZCAmanual1", { headers: bearer(analysisToken("ana-on")) })
      expect(evaluation.body).toMatchObject({ score: 0.4, source: "automation", tags: ["reviewed"] })
      const session = yield* request("GET", "/api/v1/voice-sessions/by-stream/MZCAmanual1", { headers: bearer(analysisToken("ana-on")) })
      expect(session.body.summary).toBe(SUMMARY)
    }))

  it.effect("a person's evaluation committed while the analysis writes its own is kept (the write is one guarded statement)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      openai.script([{ _tag: "delay", ms: 300, then: analysisAnswer() }])
      yield* recordFinishedCall("ana-on", "CArace1")
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
      yield* eventuallyHolds(Effect.map(waiting, (rows) => rows[0]!.n), (n) => n > 0)
      yield* Deferred.succeed(commit, undefined)
      yield* Fiber.join(reviewer)

      yield* eventuallyHolds(jobOf("ana-on", "MZCArace1"), (j) => j?.status === "done")
      const evaluation = yield* request("GET", "/api/v1/voice-session-evals/by-session/MZCArace1", { headers: bearer(analysisToken("ana-on")) })
      expect(evaluation.body).toMatchObject({ score: 0.3, source: "reviewer", tags: ["reviewed"] })
      // The analysis still finished (summary written) and announced no evaluation of its own.
      yield* eventuallyHolds(Effect.sync(() => delivered("ana-on", "voice.call.completed", "MZCArace1")), (l) => l.length > 0)
      const events = yield* sql<{ n: number }>`select count(*)::int as n from webhook_outbox
        where tenant_id = 'ana-on' and event = 'voice.session.evaluated' and payload->'data'->>'stream_id' = 'MZCArace1'`
      expect(events[0]!.n).toBe(0)
    }))

  it.effect("an answer that does not match the schema is a failed attempt; the next good one is used", () =>
    Effect.gen(function*() {
      openai.script([{ _tag: "json", value: { summary: "x", sentiment: "ecstatic" } }])
      yield* recordFinishedCall("ana-on", "CAbad1")
      const [completed] = yield* eventually(Effect.sync(() => delivered("ana-on", "voice.call.completed", "MZCAbad1")), (l) => l.length > 0)
      expect(completed.data.summary).toBe(SUMMARY)
      const job = yield* jobOf("ana-on", "MZCAbad1")
      expect(job).toMatchObject({ status: "done", attempts: 2 })
    }))

  it.effect("a tenant with analysis off: no request, no job, the completed event goes at once", () =>
    Effect.gen(function*() {
      const before = openai.requests.length
      yield* recordFinishedCall("ana-off", "CAoff1")
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
      yield* recordFinishedCall("ana-on", "CAnokey1")
      const [completed] = yield* eventually(Effect.sync(() => delivered("ana-on", "voice.call.completed", "MZCAnokey1")), (l) => l.length > 0)
      expect(completed.data.summary).toBeNull()
      expect(yield* jobOf("ana-on", "MZCAnokey1")).toBeUndefined()
      expect(openai.requests.length).toBe(before)
    }))
})
