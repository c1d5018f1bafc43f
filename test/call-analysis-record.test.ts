import { expect } from "@effect/vitest"
import { Effect } from "effect"
import * as net from "node:net"
import { createAgent, createVersion } from "./support/AgentFixtures.js"
import { analysisToken, jobOf, recordFinishedCall, startAnalysisFakes, SUMMARY } from "./support/CallAnalysisFixtures.js"
import { eventually } from "./support/Eventually.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { bearer, request, serverSuite } from "./support/TestServer.js"

// What one finished analysis leaves (its one statement, CallAnalysis/Records.ts), read the way
// the API's readers and webhook receivers read it; and the plain HTTP client's failures.

const { config, delivered, openai, seedTenants } = await startAnalysisFakes()
/** A port nothing listens on: the model is unreachable. */
const closedPort = await new Promise<number>((resolve) => {
  const server = net.createServer().listen(0, "127.0.0.1", () => {
    const port = (server.address() as net.AddressInfo).port
    server.close(() => resolve(port))
  })
})

const CONFIG = { ...config, ANALYSIS_MAX_ATTEMPTS: "3", ANALYSIS_RETRY_BASE_MS: "100" }

const get = (tenantId: string, path: string) => request("GET", path, { headers: bearer(analysisToken(tenantId)) })

serverSuite(CONFIG, { seed: seedTenants("rec-on") })("a finished analysis, as its readers see it", (it) => {
  it.effect("the evaluation carries the version's agent, and voice.session.evaluated names exactly that evaluation", () =>
    Effect.gen(function*() {
      const agent = yield* createAgent("rec-on", "billing", "Billing desk")
      const version = yield* createVersion("rec-on", agent.id, { instructions: "Quote the order number back." })
      yield* recordFinishedCall("rec-on", "CArec1", version.id)
      const [completed] = yield* eventually(Effect.sync(() => delivered("rec-on", "voice.call.completed", "MZCArec1")), (l) => l.length > 0, 15_000)
      expect(completed.data).toMatchObject({ stream_sid: "MZCArec1", summary: SUMMARY })

      const evaluation = (yield* get("rec-on", "/api/v1/voice-session-evals/by-session/MZCArec1")).body
      expectSpecSchema(evaluation, "VoiceSessionEval")
      const session = (yield* get("rec-on", "/api/v1/voice-sessions/by-stream/MZCArec1")).body
      const callLogId = (yield* get("rec-on", "/api/v1/call-logs?call_sid=CArec1")).body.calls[0].id
      expect(callLogId).toEqual(expect.any(String))
      expect(evaluation).toMatchObject({
        session_id: "MZCArec1",
        stream_id: "MZCArec1",
        voice_session_id: session.id,
        call_log_id: callLogId,
        agent_version_id: version.id,
        agent_key: "billing",
        agent_name: "Billing desk",
        score: 0.86,
        tags: ["resolved", "polite"],
        notes: "Answered the question directly.",
        source: "auto",
        rubric: { source: "agent_version", agent_version_id: version.id, agent_instructions: "Quote the order number back." },
        metadata: { model: "gpt-4.1-mini", sentiment: "positive", primary_intent: "order_status", risk_level: "low" }
      })

      const [evaluated] = yield* eventually(Effect.sync(() => delivered("rec-on", "voice.session.evaluated", "MZCArec1")), (l) => l.length > 0, 15_000)
      expectSpecSchema(evaluated, "WebhookEvent")
      expect(evaluated.data).toEqual({
        eval_id: evaluation.id,
        session_id: "MZCArec1",
        stream_id: "MZCArec1",
        call_log_id: callLogId,
        agent_version_id: version.id,
        score: 0.86,
        tags: ["resolved", "polite"],
        source: "auto"
      })
      expect(delivered("rec-on", "voice.session.evaluated", "MZCArec1")).toHaveLength(1)
      expect(yield* jobOf("rec-on", "MZCArec1")).toMatchObject({ status: "done", attempts: 1, last_error: null })
    }), { timeout: 40_000 })

  it.effect("an answer past the size bound is a failed attempt; the next one is used", () =>
    Effect.gen(function*() {
      openai.script([{ _tag: "text", text: "x".repeat(1_200_000) }])
      yield* recordFinishedCall("rec-on", "CAbig1")
      const [completed] = yield* eventually(Effect.sync(() => delivered("rec-on", "voice.call.completed", "MZCAbig1")), (l) => l.length > 0, 15_000)
      expect(completed.data.summary).toBe(SUMMARY)
      expect(yield* jobOf("rec-on", "MZCAbig1")).toMatchObject({ status: "done", attempts: 2 })
    }), { timeout: 40_000 })
})

serverSuite({ ...CONFIG, OPENAI_BASE_URL: `http://127.0.0.1:${closedPort}/v1` }, { seed: seedTenants("rec-down") })(
  "post-call analysis with the model unreachable",
  (it) => {
    it.effect("every attempt fails on the connection; then the job is failed and the completed event goes with summary null", () =>
      Effect.gen(function*() {
        yield* recordFinishedCall("rec-down", "CAdown1")
        const job = yield* eventually(jobOf("rec-down", "MZCAdown1"), (j) => j?.status === "failed", 20_000)
        expect(job).toMatchObject({ status: "failed", attempts: 3 })
        expect(job!.last_error).toContain("ECONNREFUSED")
        const [completed] = yield* eventually(Effect.sync(() => delivered("rec-down", "voice.call.completed", "MZCAdown1")), (l) => l.length > 0, 15_000)
        expect(completed.data).toMatchObject({ stream_sid: "MZCAdown1", summary: null })
        expect((yield* get("rec-down", "/api/v1/voice-sessions/by-stream/MZCAdown1")).body.summary).toBeNull()
        expect(delivered("rec-down", "voice.session.evaluated", "MZCAdown1")).toHaveLength(0)
      }), { timeout: 40_000 })
  }
)
