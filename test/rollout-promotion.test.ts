import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { admin, createAgent, createTenant, createVersion, publish, setRollout } from "./support/AgentFixtures.js"
import { evaluatePath, policyPath } from "./support/GovernanceFixtures.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { makeTestServer } from "./support/TestServer.js"
import { callRecord, recordCall, seedEvaluatedCalls } from "./support/VoiceRecordFixtures.js"

/** Four calls (and evals) on each side is the minimum sample; a 24 h window. */
const POLICY = { enabled: true, lookback_hours: 24, min_eval_count: 4, min_avg_score: 0.5, min_high_quality_rate: null }

type Version = { agent_version_id: string; traffic_percentage: number; status: string; reasons: Array<string> }

/** An agent with published v1 (the baseline) and draft v2 taking 20% of calls as a canary. */
const canaryAgent = (tenant: string, key: string) =>
  Effect.gen(function*() {
    const agent = yield* createAgent(tenant, key)
    const v1 = yield* createVersion(tenant, agent.id, { instructions: "baseline" })
    const v2 = yield* createVersion(tenant, agent.id, { instructions: "canary" })
    yield* publish(tenant, v1.id)
    yield* setRollout(tenant, agent.id, [
      { agent_version_id: v1.id, traffic_percentage: 80 },
      { agent_version_id: v2.id, traffic_percentage: 20 }
    ])
    expect((yield* admin("PUT", policyPath(tenant, agent.id), POLICY)).status).toBe(200)
    return { agent, v1, v2 }
  })

/** As if the canary had taken its share `hours` ago. */
const servedFor = (versionId: string, hours: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`update agent_version_rollouts set serving_since = now() - make_interval(hours => ${hours})
        where agent_version_id = ${versionId}`).pipe(Effect.orDie)

const evaluate = (tenant: string, agentId: string, apply: boolean) =>
  Effect.gen(function*() {
    const res = yield* admin("POST", evaluatePath(tenant, agentId), { apply })
    expect(res.status, res.text).toBe(200)
    expectSpecSchema(res.body, "AdminRolloutGovernanceEvaluationResponse")
    const evaluation = res.body.evaluation
    const version = (id: string) => evaluation.rollout_versions.find((v: Version) => v.agent_version_id === id) as Version | undefined
    return { evaluation, version }
  })

const actionsOf = (agentId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ kind: string; from_version_id: string; to_version_id: string; moved_percentage: number; actor: string; metadata: any }>`
      select kind, from_version_id::text, to_version_id::text, moved_percentage, actor, metadata
      from rollout_governance_actions where agent_id = ${agentId} order by created_at`).pipe(Effect.orDie)

/** `escalated.length` calls served by `versionId`, each escalated or resolved. */
const calls = (tenant: string, versionId: string, prefix: string, escalated: ReadonlyArray<boolean>) =>
  Effect.forEach(escalated, (esc, i) =>
    recordCall(callRecord(tenant, `MZ-${prefix}-${i}`, {
      agentVersionId: versionId,
      escalated: esc,
      resolution: esc ? "escalated" : "resolved"
    })), { discard: true })

layer(makeTestServer(), { timeout: 60_000 })("rollout governance: promotion", (it) => {
  it.effect("a canary as good as its baseline over the window is promoted once, with the numbers recorded", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("promo-co")
      const { agent, v1, v2 } = yield* canaryAgent("promo-co", "support")
      yield* seedEvaluatedCalls("promo-co", token, v1.id, [0.8, 0.8, 0.75, 0.8, 0.85])
      yield* seedEvaluatedCalls("promo-co", token, v2.id, [0.9, 0.85, 0.8, 0.9, 0.85])

      // Every signal is fine, but the canary has served for minutes of a 24 h window: held.
      const early = yield* evaluate("promo-co", agent.id, true)
      expect(early.evaluation.applied).toBe(false)
      expect(early.version(v2.id)).toMatchObject({ status: "insufficient_data", traffic_percentage: 20 })
      expect(early.version(v2.id)!.reasons.join("\n")).toMatch(/hold: the canary has served for 0(\.\d+)?h; promotion waits for the 24h window/)
      expect(yield* actionsOf(agent.id)).toEqual([])

      yield* servedFor(v2.id, 25)
      const { evaluation, version } = yield* evaluate("promo-co", agent.id, true)
      expect(evaluation).toMatchObject({ status: "healthy", applied: true })
      expect(evaluation.published_version.agent_version_id).toBe(v2.id)
      expect(evaluation.rollout_versions).toHaveLength(1)
      expect(version(v2.id)).toMatchObject({ traffic_percentage: 100 })
      expect(version(v2.id)!.reasons.join("\n")).toContain("manual eval score 0.86 vs baseline 0.8 over 5 and 5 samples: within the 0.05 allowed")
      expect(evaluation.reasons.join("\n")).toContain(`promoted version ${v2.version_number}: now the published version with 100% of traffic`)

      // The version is published (it was a draft), the split is all its own, the baseline retired.
      const versions = yield* admin("GET", `/tenants/promo-co/agent-versions?agent_id=${agent.id}`)
      expectSpecSchema(versions.body, "AdminAgentVersionsResponse")
      const v2Now = versions.body.versions.find((v: { id: string }) => v.id === v2.id)
      expect(v2Now.status).toBe("published")
      expect(v2Now.published_at).not.toBeNull()
      const rollouts = yield* admin("GET", `/tenants/promo-co/agents/${agent.id}/rollouts`)
      expectSpecSchema(rollouts.body, "AdminAgentVersionRolloutsResponse")
      expect(rollouts.body.rollouts.map((r: { agent_version_id: string; traffic_percentage: number }) => [r.agent_version_id, r.traffic_percentage]))
        .toEqual([[v2.id, 100]])

      const actions = yield* actionsOf(agent.id)
      expect(actions).toHaveLength(1)
      expect(actions[0]).toMatchObject({ kind: "promotion", from_version_id: v1.id, to_version_id: v2.id, moved_percentage: 80 })
      expect(actions[0]!.actor).toMatch(/^admin:/)
      expect(actions[0]!.metadata).toMatchObject({
        decision: "promote",
        worse: [],
        min_sample: 4,
        window_hours: 24,
        canary: { calls: 5, escalation_rate: 0, manual_evals: 5 },
        baseline: { calls: 5, escalation_rate: 0, manual_evals: 5 },
        limits: { max_escalation_rate_increase: 0.05, max_score_drop: 0.05 }
      })
      expect(actions[0]!.metadata.served_hours).toBeGreaterThanOrEqual(25)

      // Evaluating again changes nothing: there is no canary left.
      const again = yield* evaluate("promo-co", agent.id, true)
      expect(again.evaluation.applied).toBe(false)
      expect(yield* actionsOf(agent.id)).toHaveLength(1)
    }))

  it.effect("without apply, or with auto_promote false in the tenant's config, promotion is only recommended", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("promo-manual")
      const { agent, v1, v2 } = yield* canaryAgent("promo-manual", "support")
      yield* seedEvaluatedCalls("promo-manual", token, v1.id, [0.8, 0.8, 0.8, 0.8])
      yield* seedEvaluatedCalls("promo-manual", token, v2.id, [0.8, 0.8, 0.8, 0.8])
      yield* servedFor(v2.id, 30)
      const dry = yield* evaluate("promo-manual", agent.id, false)
      expect(dry.evaluation.applied).toBe(false)
      expect(dry.version(v2.id)!.reasons.join("\n")).toContain("ready to promote")

      const put = yield* admin("PUT", "/tenants/promo-manual", {
        tenant_id: "promo-manual",
        auth_token: token,
        rollout_governance: { auto_promote: false }
      })
      expect(put.status, put.text).toBe(200)
      const kept = yield* evaluate("promo-manual", agent.id, true)
      expect(kept.evaluation.applied).toBe(false)
      expect(kept.evaluation.reasons.join("\n")).toContain("rollout_governance.auto_promote is false")
      expect(kept.version(v2.id)).toMatchObject({ traffic_percentage: 20 })
      expect(yield* actionsOf(agent.id)).toEqual([])
    }))

  it.effect("the admin sweep with apply promotes too; its rollback counters stay at 0", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("promo-sweep")
      const { agent, v1, v2 } = yield* canaryAgent("promo-sweep", "support")
      yield* seedEvaluatedCalls("promo-sweep", token, v1.id, [0.8, 0.8, 0.8, 0.8])
      yield* seedEvaluatedCalls("promo-sweep", token, v2.id, [0.8, 0.85, 0.8, 0.8])
      yield* servedFor(v2.id, 25)
      const res = yield* admin("POST", "/rollout-governance/sweep", { apply: true, auth_token: token })
      expect(res.status, res.text).toBe(200)
      expectSpecSchema(res.body, "AdminRolloutGovernanceSweepResponse")
      expect(res.body.result).toMatchObject({ evaluated_agents: 1, rollback_recommended: 0, rollbacks_applied: 0 })
      expect(res.body.result.items[0].evaluation).toMatchObject({ applied: true, status: "healthy" })
      const actions = yield* actionsOf(agent.id)
      expect(actions.map((a) => [a.kind, a.to_version_id])).toEqual([["promotion", v2.id]])
      expect(actions[0]!.metadata.canary).toMatchObject({ calls: 4, manual_evals: 4 })
    }))

  it.effect("thresholds from the tenant's config change the decision", () =>
    Effect.gen(function*() {
      yield* createTenant("promo-lenient")
      const { agent, v1, v2 } = yield* canaryAgent("promo-lenient", "support")
      yield* calls("promo-lenient", v1.id, "len-base", [false, false, false, false, false])
      yield* calls("promo-lenient", v2.id, "len-canary", [true, false, false, false, false])
      const strict = yield* evaluate("promo-lenient", agent.id, false)
      expect(strict.version(v2.id)!.status).toBe("failing")
      expect(strict.version(v2.id)!.reasons.join("\n")).toContain("escalation rate 0.2 vs baseline 0 over 5 and 5 samples: worse by 0.2, more than the 0.05 allowed")

      const put = yield* admin("PUT", "/tenants/promo-lenient", {
        tenant_id: "promo-lenient",
        rollout_governance: { max_escalation_rate_increase: 0.25, min_samples: 5 }
      })
      expect(put.status, put.text).toBe(200)
      const lenient = yield* evaluate("promo-lenient", agent.id, true)
      expect(lenient.evaluation.applied).toBe(false)
      expect(lenient.version(v2.id)!.status).not.toBe("failing")
      expect(lenient.version(v2.id)!.reasons.join("\n")).toContain("escalation rate 0.2 vs baseline 0 over 5 and 5 samples: within the 0.25 allowed")
      expect(lenient.version(v2.id)).toMatchObject({ traffic_percentage: 20 })

      // A minimum sample above what either side has: nothing is compared, the canary is held.
      yield* admin("PUT", "/tenants/promo-lenient", { tenant_id: "promo-lenient", rollout_governance: { min_samples: 6 } })
      const short = yield* evaluate("promo-lenient", agent.id, true)
      expect(short.version(v2.id)!.reasons.join("\n")).toContain("hold: 5 canary calls in the window; at least 6 are needed")
      expect(short.version(v2.id)!.status).toBe("insufficient_data")
    }))

  it.effect("a bad rollout_governance section is refused with a 400 naming the key", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<[unknown, string]> = [
        [{ max_score_drop: 1.5 }, "rollout_governance.max_score_drop must be a number from 0 to 1"],
        [{ max_escalation_rate_increase: "lots" }, "rollout_governance.max_escalation_rate_increase must be a number from 0 to 1"],
        [{ max_p95_latency_increase_ms: -1 }, "rollout_governance.max_p95_latency_increase_ms must be an integer from 0 to 600000"],
        [{ min_samples: 0 }, "rollout_governance.min_samples must be an integer from 1 to 1000000"],
        [{ auto_promote: "yes" }, "rollout_governance.auto_promote must be true or false"],
        ["strict", "rollout_governance must be an object"]
      ]
      for (const [section, message] of cases) {
        const res = yield* admin("PUT", "/tenants/promo-bad", { tenant_id: "promo-bad", rollout_governance: section })
        expect(res.status, res.text).toBe(400)
        expect(res.text).toContain(message)
      }
      const good = yield* admin("PUT", "/tenants/promo-bad", {
        tenant_id: "promo-bad",
        rollout_governance: { max_score_drop: 0.1, max_p95_latency_increase_ms: 800, auto_promote: true }
      })
      expect(good.status, good.text).toBe(200)
    }))
})
