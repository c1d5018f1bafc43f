import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { admin, createAgent, createTenant, createVersion, publish, setRollout } from "./support/AgentFixtures.js"
import { evaluatePath, policyPath } from "./support/GovernanceFixtures.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { makeTestServer } from "./support/TestServer.js"
import { callRecord, recordCall } from "./support/VoiceRecordFixtures.js"

const TENANT = "canary-co"
/** Four calls (or evals) is the minimum sample on each side; eval scores alone would pass (no evals at all). */
const POLICY = { enabled: true, lookback_hours: 24, min_eval_count: 4, min_avg_score: 0.5, min_high_quality_rate: null }

/** `escalated.length` calls served by `versionId`, each escalated or resolved. */
const calls = (versionId: string, prefix: string, escalated: ReadonlyArray<boolean>) =>
  Effect.forEach(escalated, (esc, i) =>
    recordCall(callRecord(TENANT, `MZ-${prefix}-${i}`, {
      agentVersionId: versionId,
      escalated: esc,
      resolution: esc ? "escalated" : "resolved"
    })), { discard: true })

/** An agent with published v1 (the baseline) and draft v2 taking 20% of calls as a canary. */
const canaryAgent = (key: string) =>
  Effect.gen(function*() {
    const agent = yield* createAgent(TENANT, key)
    const v1 = yield* createVersion(TENANT, agent.id, { instructions: "baseline" })
    const v2 = yield* createVersion(TENANT, agent.id, { instructions: "canary" })
    yield* publish(TENANT, v1.id)
    yield* setRollout(TENANT, agent.id, [
      { agent_version_id: v1.id, traffic_percentage: 80 },
      { agent_version_id: v2.id, traffic_percentage: 20 }
    ])
    expect((yield* admin("PUT", policyPath(TENANT, agent.id), POLICY)).status).toBe(200)
    return { agent, v1, v2 }
  })

layer(makeTestServer(), { timeout: 60_000 })("rollout governance: canary against baseline", (it) => {
  it.effect("a canary escalating more than its baseline is rolled back, with the numbers recorded", () =>
    Effect.gen(function*() {
      yield* createTenant(TENANT)
      const { agent, v1, v2 } = yield* canaryAgent("esc")
      // A draft in a rollout is a canary; it is not the agent's published version.
      const versions = yield* admin("GET", `/tenants/${TENANT}/agent-versions?agent_id=${agent.id}`)
      const byId = new Map<string, { status: string }>(versions.body.versions.map((v: { id: string; status: string }) => [v.id, v]))
      expect(byId.get(v2.id)?.status).toBe("draft")

      yield* calls(v1.id, "base", [false, false, false, false, false])
      yield* calls(v2.id, "canary", [true, true, true, false, false])
      const res = yield* admin("POST", evaluatePath(TENANT, agent.id), { apply: true })
      expect(res.status).toBe(200)
      expectSpecSchema(res.body, "AdminRolloutGovernanceEvaluationResponse")
      const evaluation = res.body.evaluation
      expect(evaluation).toMatchObject({ status: "failing", applied: true })
      const canary = evaluation.rollout_versions.find((v: { agent_version_id: string }) => v.agent_version_id === v2.id)
      expect(canary).toMatchObject({ status: "failing", traffic_percentage: 0 })
      expect(canary.reasons.join("\n")).toContain("escalation rate 0.6 vs baseline 0 over 5 and 5 samples: worse by 0.6")
      const base = evaluation.rollout_versions.find((v: { agent_version_id: string }) => v.agent_version_id === v1.id)
      expect(base).toMatchObject({ traffic_percentage: 100 })

      const sql = yield* SqlClient.SqlClient
      const actions = yield* sql<{ from_version_id: string; to_version_id: string; moved_percentage: number; metadata: any }>`
        select from_version_id::text, to_version_id::text, moved_percentage, metadata from rollout_governance_actions
        where tenant_id = ${TENANT} and agent_id = ${agent.id}`
      expect(actions).toHaveLength(1)
      expect(actions[0]).toMatchObject({ from_version_id: v2.id, to_version_id: v1.id, moved_percentage: 20 })
      expect(actions[0]!.metadata).toMatchObject({
        decision: "rollback",
        worse: ["escalation rate"],
        min_sample: 4,
        canary: { calls: 5, escalation_rate: 0.6 },
        baseline: { calls: 5, escalation_rate: 0 },
        limits: { max_escalation_rate_increase: 0.05 }
      })
    }))

  it.effect("below the minimum sample the canary is held, however bad it looks", () =>
    Effect.gen(function*() {
      const { agent, v1, v2 } = yield* canaryAgent("hold")
      yield* calls(v1.id, "hold-base", [false, false, false, false, false])
      yield* calls(v2.id, "hold-canary", [true, true])
      const res = yield* admin("POST", evaluatePath(TENANT, agent.id), { apply: true })
      expect(res.status).toBe(200)
      expectSpecSchema(res.body, "AdminRolloutGovernanceEvaluationResponse")
      expect(res.body.evaluation).toMatchObject({ status: "insufficient_data", applied: false })
      const canary = res.body.evaluation.rollout_versions.find((v: { agent_version_id: string }) => v.agent_version_id === v2.id)
      expect(canary).toMatchObject({ status: "insufficient_data", traffic_percentage: 20 })
      expect(canary.reasons.join("\n")).toContain("hold: 2 canary calls in the window; at least 4 are needed")
    }))

  it.effect("a canary as good as its baseline is held until it has served the policy window", () =>
    Effect.gen(function*() {
      const { agent, v1, v2 } = yield* canaryAgent("good")
      yield* calls(v1.id, "good-base", [false, false, false, false, true])
      yield* calls(v2.id, "good-canary", [false, false, false, false, true])
      const res = yield* admin("POST", evaluatePath(TENANT, agent.id), { apply: true })
      expect(res.status).toBe(200)
      const canary = res.body.evaluation.rollout_versions.find((v: { agent_version_id: string }) => v.agent_version_id === v2.id)
      expect(canary.traffic_percentage).toBe(20)
      expect(canary.reasons.join("\n")).toContain("promotion waits for the 24h window")
      expect(canary.reasons.join("\n")).toContain("escalation rate 0.2 vs baseline 0.2 over 5 and 5 samples: within the 0.05 allowed")
      expect(res.body.evaluation.applied).toBe(false)
    }))

  it.effect("publishing a canary freezes it without making it the published version; promotion (100% of traffic) does", () =>
    Effect.gen(function*() {
      const { agent, v1, v2 } = yield* canaryAgent("promote")
      const published = yield* publish(TENANT, v2.id)
      expect(published.status).toBe("published")
      const during = yield* admin("POST", evaluatePath(TENANT, agent.id), {})
      expect(during.body.evaluation.published_version.agent_version_id).toBe(v1.id)
      yield* setRollout(TENANT, agent.id, [{ agent_version_id: v2.id, traffic_percentage: 100 }])
      const after = yield* admin("POST", evaluatePath(TENANT, agent.id), {})
      expectSpecSchema(after.body, "AdminRolloutGovernanceEvaluationResponse")
      expect(after.body.evaluation.published_version.agent_version_id).toBe(v2.id)
    }))
})
