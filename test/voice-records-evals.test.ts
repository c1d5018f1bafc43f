import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { createAgent, createTenant, createVersion } from "./support/AgentFixtures.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { bearer, makeTestServer, request } from "./support/TestServer.js"
import { callRecord, recordCall } from "./support/VoiceRecordFixtures.js"

const CALL_LOG_ID = "22222222-2222-4222-8222-222222222222"

const api = (token: string, method: "GET" | "POST", path: string, json?: unknown) =>
  request(method, `/api/v1${path}`, { headers: bearer(token), ...(json === undefined ? {} : { json }) })

layer(makeTestServer())("voice session evals", (it) => {
  it.effect("records an evaluation linked to the session, its call and agent version", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("ev")
      const agent = yield* createAgent("ev", "support", "StateSet Support")
      const version = yield* createVersion("ev", agent.id)
      const call = yield* recordCall(callRecord("ev", "MZ-e1", { agentVersionId: version.id, callLogId: CALL_LOG_ID }))

      const recorded = yield* api(token, "POST", "/automations/voice/evaluation", {
        session_id: "MZ-e1",
        score: 0.92,
        tags: ["resolved", "authenticated"],
        rubric: { greeting: 1, resolution: 0.9 },
        notes: "Resolved without escalation.",
        source: "auto"
      })
      expect(recorded.status).toBe(200)
      expectSpecSchema(recorded.body, "AutomationResponse")
      expect(recorded.body.ok).toBe(true)
      const evaluation = recorded.body.result
      expectSpecSchema(evaluation, "VoiceSessionEval")
      expect(evaluation).toMatchObject({
        tenant_id: "ev",
        session_id: "MZ-e1",
        stream_id: "MZ-e1",
        voice_session_id: call.sessionId,
        call_log_id: CALL_LOG_ID,
        agent_version_id: version.id,
        agent_key: "support",
        agent_name: "StateSet Support",
        score: 0.92,
        tags: ["resolved", "authenticated"],
        rubric: { greeting: 1, resolution: 0.9 },
        notes: "Resolved without escalation.",
        source: "auto",
        metadata: {}
      })

      // By the session's UUID as well; recording again replaces the evaluation.
      const again = yield* api(token, "POST", "/automations/voice/evaluation", { session_id: call.sessionId, score: 0.5 })
      expect(again.status).toBe(200)
      expect(again.body.result).toMatchObject({ id: evaluation.id, score: 0.5, tags: [], notes: null })

      const fetched = yield* api(token, "POST", "/automations/voice/get-eval", { call_sid: "CAMZ-e1" })
      expect(fetched.status).toBe(200)
      expectSpecSchema(fetched.body, "AutomationResponse")
      expect(fetched.body.result).toMatchObject({ id: evaluation.id, score: 0.5 })

      for (const key of ["MZ-e1", call.sessionId]) {
        const bySession = yield* api(token, "GET", `/voice-session-evals/by-session/${key}`)
        expect(bySession.status).toBe(200)
        expectSpecSchema(bySession.body, "VoiceSessionEval")
        expect(bySession.body.id).toBe(evaluation.id)
      }
    }))

  it.effect("rejects bad evaluations in the automation envelope", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("ev-bad")
      yield* recordCall(callRecord("ev-bad", "MZ-b1"))
      const cases: ReadonlyArray<[unknown, number, string]> = [
        [{ session_id: "MZ-b1", score: 1.5 }, 400, "score"],
        [{ session_id: "MZ-b1", score: -0.1 }, 400, "score"],
        [{ session_id: "MZ-b1" }, 400, "score"],
        [{ session_id: "MZ-b1", score: "high" }, 400, "score"],
        [{ session_id: "MZ-b1", score: 0.5, tags: "x" }, 400, "tags"],
        [{ score: 0.5 }, 400, "session_id"],
        [{ session_id: "MZ-none", score: 0.5 }, 400, "MZ-none"]
      ]
      for (const [body, status, word] of cases) {
        const res = yield* api(token, "POST", "/automations/voice/evaluation", body)
        expect(res.status, JSON.stringify(body)).toBe(status)
        expectSpecSchema(res.body, "AutomationResponse")
        expect(res.body.ok).toBe(false)
        expect(res.body.error).toContain(word)
      }
      const noEval = yield* api(token, "POST", "/automations/voice/get-eval", { session_id: "MZ-b1" })
      expect(noEval.status).toBe(400)
      expectSpecSchema(noEval.body, "AutomationResponse")
      expect(noEval.body).toMatchObject({ ok: false, error: "Evaluation not found for voice session: MZ-b1" })
      const missing = yield* api(token, "GET", "/voice-session-evals/by-session/MZ-b1")
      expect(missing.status).toBe(404)
      expectSpecSchema(missing.body, "ErrorResponse")
      const unauthenticated = yield* request("POST", "/api/v1/automations/voice/evaluation", { json: { session_id: "MZ-b1", score: 1 } })
      expect(unauthenticated.status).toBe(401)
    }))

  it.effect("lists with score and tag filters and computes stats", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("ev-list")
      const agent = yield* createAgent("ev-list", "support")
      const version = yield* createVersion("ev-list", agent.id)
      const scores: ReadonlyArray<[string, number, ReadonlyArray<string>]> = [
        ["MZ-1", 0.95, ["resolved"]],
        ["MZ-2", 0.85, ["resolved", "vip"]],
        ["MZ-3", 0.4, ["escalated"]],
        ["MZ-4", 0.7, []]
      ]
      for (const [stream, score, tags] of scores) {
        yield* recordCall(callRecord("ev-list", stream, { agentVersionId: version.id, callLogId: CALL_LOG_ID }))
        const res = yield* api(token, "POST", "/automations/voice/evaluation", { session_id: stream, score, tags })
        expect(res.status).toBe(200)
      }
      const ids = (res: any) => res.body.evals.map((e: { session_id: string }) => e.session_id).sort()

      const all = yield* api(token, "GET", "/voice-session-evals")
      expect(all.status).toBe(200)
      expect(all.body).toMatchObject({ ok: true, tenant: "ev-list", count: 4 })
      for (const evaluation of all.body.evals) expectSpecSchema(evaluation, "VoiceSessionEval")
      expect(ids(yield* api(token, "GET", "/voice-session-evals?min_score=0.8"))).toEqual(["MZ-1", "MZ-2"])
      expect(ids(yield* api(token, "GET", "/voice-session-evals?max_score=0.7"))).toEqual(["MZ-3", "MZ-4"])
      expect(ids(yield* api(token, "GET", "/voice-session-evals?min_score=0.5&max_score=0.9"))).toEqual(["MZ-2", "MZ-4"])
      expect(ids(yield* api(token, "GET", "/voice-session-evals?tag=resolved"))).toEqual(["MZ-1", "MZ-2"])
      const paged = yield* api(token, "GET", "/voice-session-evals?limit=1&offset=3")
      expect(paged.body.evals.length).toBe(1)
      for (const query of ["min_score=abc", "min_score=0.9&max_score=0.1", "limit=0"]) {
        const res = yield* api(token, "GET", `/voice-session-evals?${query}`)
        expect(res.status, query).toBe(400)
        expectSpecSchema(res.body, "ErrorResponse")
      }

      const stats = yield* api(token, "GET", "/voice-session-evals/stats")
      expect(stats.status).toBe(200)
      expectSpecSchema(stats.body, "VoiceSessionEvalStats")
      expect(stats.body.total_evals).toBe(4)
      expect(stats.body.evals_last_24h).toBe(4)
      expect(stats.body.avg_score).toBeCloseTo(0.725, 6)
      expect(stats.body.high_quality_rate).toBeCloseTo(0.5, 6)
    }))

  it.effect("never shows one tenant's evaluations to another", () =>
    Effect.gen(function*() {
      const a = yield* createTenant("ev-a")
      const b = yield* createTenant("ev-b")
      const call = yield* recordCall(callRecord("ev-a", "MZ-iso"))
      expect((yield* api(a, "POST", "/automations/voice/evaluation", { session_id: "MZ-iso", score: 0.9 })).status).toBe(200)
      // Automation operations have one failure status in the spec (400): the session is simply not found.
      const foreign = yield* api(b, "POST", "/automations/voice/evaluation", { session_id: "MZ-iso", score: 0.1 })
      expect(foreign.status).toBe(400)
      expect(foreign.body.error).toContain("not found")
      expect((yield* api(b, "POST", "/automations/voice/get-eval", { session_id: call.sessionId })).status).toBe(400)
      expect((yield* api(b, "GET", `/voice-session-evals/by-session/${call.sessionId}`)).status).toBe(404)
      expect((yield* api(b, "GET", "/voice-session-evals/by-session/MZ-iso")).status).toBe(404)
      expect((yield* api(b, "GET", "/voice-session-evals")).body.count).toBe(0)
      const stats = yield* api(b, "GET", "/voice-session-evals/stats")
      expect(stats.body).toMatchObject({ total_evals: 0, evals_last_24h: 0, avg_score: null, high_quality_rate: null })
      expect((yield* api(a, "GET", "/voice-session-evals/by-session/MZ-iso")).body.score).toBe(0.9)
    }))
})
