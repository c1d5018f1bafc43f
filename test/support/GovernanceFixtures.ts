import { Effect } from "effect"
import { createAgent, createTenant, createVersion, publish, setRollout } from "./AgentFixtures.js"
import { seedEvaluatedCalls } from "./VoiceRecordFixtures.js"

export const POLICY = { enabled: true, lookback_hours: 24, min_eval_count: 3, min_avg_score: 0.7, min_high_quality_rate: 0.5 }

export const policyPath = (tenantId: string, agentId: string) => `/tenants/${tenantId}/agents/${agentId}/rollout-policy`
export const evaluatePath = (tenantId: string, agentId: string) =>
  `/tenants/${tenantId}/agents/${agentId}/rollout-governance/evaluate`

/** An agent whose published v1 evaluates well and whose canary v2 (20% of traffic) evaluates badly. */
export const failingCanary = (tenantId: string) =>
  Effect.gen(function*() {
    const token = yield* createTenant(tenantId)
    const agent = yield* createAgent(tenantId, "support")
    const v1 = yield* createVersion(tenantId, agent.id, { instructions: "stable" })
    const v2 = yield* createVersion(tenantId, agent.id, { instructions: "canary" })
    yield* publish(tenantId, v1.id)
    yield* setRollout(tenantId, agent.id, [
      { agent_version_id: v1.id, traffic_percentage: 80 },
      { agent_version_id: v2.id, traffic_percentage: 20 }
    ])
    yield* seedEvaluatedCalls(tenantId, token, v1.id, [0.95, 0.9, 0.85, 0.8])
    yield* seedEvaluatedCalls(tenantId, token, v2.id, [0.3, 0.5, 0.4])
    return { token, agent, v1, v2 }
  })
