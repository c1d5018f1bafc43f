import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { admin, createAgent, createTenant } from "./support/AgentFixtures.js"
import { evaluatePath, failingCanary, POLICY, policyPath } from "./support/GovernanceFixtures.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { makeTestServer } from "./support/TestServer.js"

layer(makeTestServer(), { timeout: 60_000 })("rollout governance", (it) => {
  it.effect("stores a policy per agent and validates it", () =>
    Effect.gen(function*() {
      yield* createTenant("gp")
      yield* createTenant("gp-other")
      const agent = yield* createAgent("gp", "a")
      const none = yield* admin("GET", policyPath("gp", agent.id))
      expect(none.status).toBe(200)
      expectSpecSchema(none.body, "AdminRolloutGovernancePolicyResponse")
      expect(none.body).toEqual({ ok: true, policy: null })

      const put = yield* admin("PUT", policyPath("gp", agent.id), POLICY)
      expect(put.status).toBe(200)
      expectSpecSchema(put.body, "AdminRolloutGovernancePolicyResponse")
      expect(put.body.policy).toMatchObject({ ...POLICY, tenant_id: "gp", agent_id: agent.id })
      const changed = yield* admin("PUT", policyPath("gp", agent.id), { ...POLICY, enabled: false, min_high_quality_rate: null })
      expect(changed.body.policy).toMatchObject({ enabled: false, min_high_quality_rate: null })
      expect(changed.body.policy.created_at).toBe(put.body.policy.created_at)
      const read = yield* admin("GET", policyPath("gp", agent.id))
      expect(read.body.policy).toEqual(changed.body.policy)

      const bad: ReadonlyArray<[Record<string, unknown>, string]> = [
        [{ ...POLICY, min_avg_score: 1.5 }, "min_avg_score"],
        [{ ...POLICY, lookback_hours: 0 }, "lookback_hours"],
        [{ ...POLICY, min_eval_count: 0 }, "min_eval_count"],
        [{ ...POLICY, min_high_quality_rate: -1 }, "min_high_quality_rate"],
        [{ enabled: true }, "lookback_hours"]
      ]
      for (const [body, word] of bad) {
        const res = yield* admin("PUT", policyPath("gp", agent.id), body)
        expect(res.status, JSON.stringify(body)).toBe(400)
        expectSpecSchema(res.body, "AdminErrorResponse")
        expect(res.body.error).toContain(word)
      }
      expect((yield* admin("GET", policyPath("gp-other", agent.id))).status).toBe(404)
      expect((yield* admin("PUT", policyPath("gp-other", agent.id), POLICY)).status).toBe(404)
      expect((yield* admin("POST", evaluatePath("gp-other", agent.id), {})).status).toBe(404)
      expect((yield* admin("GET", policyPath("nobody", agent.id))).status).toBe(404)
    }))

  it.effect("evaluates every version in the rollout and the published one", () =>
    Effect.gen(function*() {
      const { agent, v1, v2 } = yield* failingCanary("ge")
      const noPolicy = yield* admin("POST", evaluatePath("ge", agent.id), { apply: true })
      expect(noPolicy.status).toBe(200)
      expectSpecSchema(noPolicy.body, "AdminRolloutGovernanceEvaluationResponse")
      expect(noPolicy.body.evaluation).toMatchObject({ status: "no_policy", applied: false, policy: null })

      yield* admin("PUT", policyPath("ge", agent.id), POLICY)
      const res = yield* admin("POST", evaluatePath("ge", agent.id), {})
      expect(res.status).toBe(200)
      expectSpecSchema(res.body, "AdminRolloutGovernanceEvaluationResponse")
      const evaluation = res.body.evaluation
      expect(evaluation).toMatchObject({ agent_id: agent.id, agent_key: "support", status: "failing", applied: false })
      expect(evaluation.published_version).toMatchObject({ agent_version_id: v1.id, version_number: 1, eval_count: 4 })
      expect(evaluation.published_version.avg_score).toBeCloseTo(0.875, 6)
      expect(evaluation.published_version.high_quality_rate).toBeCloseTo(1, 6)
      const [first, second] = evaluation.rollout_versions
      expect(first).toMatchObject({ agent_version_id: v1.id, traffic_percentage: 80, eval_count: 4, status: "healthy" })
      expect(second).toMatchObject({ agent_version_id: v2.id, traffic_percentage: 20, eval_count: 3, status: "failing" })
      expect(second.avg_score).toBeCloseTo(0.4, 6)
      expect(second.high_quality_rate).toBe(0)
      expect(second.reasons.join(" ")).toContain("average score 0.4 is below the minimum 0.7")
      expect(second.reasons.join(" ")).toContain("high-quality rate 0 is below the minimum 0.5")
      expect(evaluation.reasons[0]).toContain("version 2 is failing")
      // Without `apply` nothing moves.
      const rollout = yield* admin("GET", `/tenants/ge/agents/${agent.id}/rollouts`)
      expect(rollout.body.rollouts.map((r: any) => r.traffic_percentage)).toEqual([80, 20])

      yield* admin("PUT", policyPath("ge", agent.id), { ...POLICY, min_eval_count: 10 })
      const thin = yield* admin("POST", evaluatePath("ge", agent.id), { apply: true })
      expect(thin.body.evaluation).toMatchObject({ status: "insufficient_data", applied: false })
      expect(thin.body.evaluation.rollout_versions[1].status).toBe("insufficient_data")
      expect(thin.body.evaluation.rollout_versions[1].reasons[0]).toContain("at least 10")

      yield* admin("PUT", policyPath("ge", agent.id), { ...POLICY, enabled: false })
      const disabled = yield* admin("POST", evaluatePath("ge", agent.id), { apply: true })
      expect(disabled.body.evaluation).toMatchObject({ status: "disabled", applied: false })
    }))

  it.effect("with apply, moves failing traffic to the published version once and records it", () =>
    Effect.gen(function*() {
      const { agent, v1, v2 } = yield* failingCanary("ga")
      yield* admin("PUT", policyPath("ga", agent.id), POLICY)
      const applied = yield* admin("POST", evaluatePath("ga", agent.id), { apply: true })
      expect(applied.status).toBe(200)
      expectSpecSchema(applied.body, "AdminRolloutGovernanceEvaluationResponse")
      expect(applied.body.evaluation).toMatchObject({ status: "failing", applied: true })
      expect(applied.body.evaluation.reasons.join(" ")).toContain("moved 20% of traffic from version 2")
      expect(applied.body.evaluation.rollout_versions.map((v: any) => [v.agent_version_id, v.traffic_percentage]))
        .toEqual([[v1.id, 100], [v2.id, 0]])
      const rollout = yield* admin("GET", `/tenants/ga/agents/${agent.id}/rollouts`)
      expect(rollout.body.rollouts.map((r: any) => r.traffic_percentage)).toEqual([100, 0])

      // Nothing left to move: evaluated again, the agent is healthy (v2 no longer takes traffic).
      const again = yield* admin("POST", evaluatePath("ga", agent.id), { apply: true })
      expect(again.body.evaluation).toMatchObject({ status: "healthy", applied: false })
    }))
})
