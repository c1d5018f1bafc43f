import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { admin } from "./support/AgentFixtures.js"
import { failingCanary, POLICY, policyPath } from "./support/GovernanceFixtures.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { makeTestServer } from "./support/TestServer.js"

layer(makeTestServer(), { timeout: 60_000 })("rollout governance sweep", (it) => {
  it.effect("the sweep finds failing rollouts across tenants and rolls them back", () =>
    Effect.gen(function*() {
      const a = yield* failingCanary("gs-a")
      const b = yield* failingCanary("gs-b")
      yield* admin("PUT", policyPath("gs-a", a.agent.id), POLICY)
      yield* admin("PUT", policyPath("gs-b", b.agent.id), POLICY)

      const dryRun = yield* admin("POST", "/rollout-governance/sweep", { apply: false })
      expect(dryRun.status).toBe(200)
      expectSpecSchema(dryRun.body, "AdminRolloutGovernanceSweepResponse")
      expect(dryRun.body.result).toMatchObject({
        attempted_tenants: 2,
        evaluated_tenants: 2,
        attempted_agents: 2,
        evaluated_agents: 2,
        rollback_recommended: 2,
        rollbacks_applied: 0,
        failures: []
      })
      expect(dryRun.body.result.items.map((i: any) => i.tenant_id)).toEqual(["gs-a", "gs-b"])
      expect(dryRun.body.result.items[0].auth_token).toBe("[redacted]")
      expect(dryRun.text).not.toContain(a.token)

      const limited = yield* admin("POST", "/rollout-governance/sweep", { apply: true, limit: 1 })
      expect(limited.body.result).toMatchObject({ attempted_tenants: 1, rollbacks_applied: 1 })
      expect(limited.body.result.items[0].tenant_id).toBe("gs-a")
      const rolledBack = yield* admin("GET", `/tenants/gs-a/agents/${a.agent.id}/rollouts`)
      expect(rolledBack.body.rollouts.map((r: any) => r.traffic_percentage)).toEqual([100, 0])
      const untouched = yield* admin("GET", `/tenants/gs-b/agents/${b.agent.id}/rollouts`)
      expect(untouched.body.rollouts.map((r: any) => r.traffic_percentage)).toEqual([80, 20])

      const byToken = yield* admin("POST", "/rollout-governance/sweep", { apply: true, auth_token: b.token })
      expect(byToken.status).toBe(200)
      expectSpecSchema(byToken.body, "AdminRolloutGovernanceSweepResponse")
      expect(byToken.body.result).toMatchObject({ attempted_tenants: 1, evaluated_agents: 1, rollbacks_applied: 1 })
      expect(byToken.body.result.items[0].tenant_id).toBe("gs-b")

      const settled = yield* admin("POST", "/rollout-governance/sweep", { apply: true })
      expect(settled.body.result).toMatchObject({ evaluated_agents: 2, rollback_recommended: 0, rollbacks_applied: 0 })

      for (const body of [{ limit: 0 }, { limit: "ten" }, { apply: "yes" }]) {
        const res = yield* admin("POST", "/rollout-governance/sweep", body)
        expect(res.status, JSON.stringify(body)).toBe(400)
        expectSpecSchema(res.body, "AdminErrorResponse")
      }
      const unknownToken = yield* admin("POST", "/rollout-governance/sweep", { apply: true, auth_token: "no-such-token-0123456789" })
      expect(unknownToken.body.result).toMatchObject({ attempted_tenants: 0, evaluated_agents: 0 })
    }))
})
