import { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"
import { orUnavailable } from "../Database/Errors.js"
import { Ids } from "../Ids.js"
import { Agents } from "../Agents/Agents.js"
import { AgentsRepo } from "../Agents/Repo.js"
import { InvalidAgentInput } from "../Agents/Errors.js"
import type { SetAgentVersionRollout } from "./Api.js"
import { RolloutsRepo } from "./Repo.js"

/** Why a rollout set is unacceptable, or undefined when it is fine. */
export const rolloutProblem = (
  agentId: string,
  entries: ReadonlyArray<SetAgentVersionRollout>,
  agentVersionIds: ReadonlySet<string>
): string | undefined => {
  const seen = new Set<string>()
  for (const entry of entries) {
    const id = entry.agent_version_id.toLowerCase()
    if (seen.has(id)) return `agent_version_id ${entry.agent_version_id} appears more than once`
    seen.add(id)
    if (!agentVersionIds.has(id)) return `agent_version_id ${entry.agent_version_id} is not a version of agent ${agentId}`
  }
  const total = entries.reduce((sum, entry) => sum + entry.traffic_percentage, 0)
  if (entries.length > 0 && total !== 100) return `traffic_percentage values must add up to 100 (got ${total})`
  return undefined
}

/**
 * An agent's rollout: the set of its versions that share its calls, by percentage. The
 * whole set is replaced at once under the agent row lock, so resolution never sees half a
 * change and governance never moves traffic of a set being replaced.
 */
export class Rollouts extends Effect.Service<Rollouts>()("Rollouts", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const agents = yield* Agents
    const agentsRepo = yield* AgentsRepo
    const repo = yield* RolloutsRepo
    const ids = yield* Ids

    const list = Effect.fn("Rollouts.list")(function*(tenantId: string, agentId: string) {
      yield* agents.tenantExists(tenantId)
      yield* agents.agent(tenantId, agentId)
      return yield* repo.list(tenantId, agentId)
    })

    const replace = Effect.fn("Rollouts.replace")(
      function*(tenantId: string, agentId: string, entries: ReadonlyArray<SetAgentVersionRollout>) {
        yield* agents.tenantExists(tenantId)
        const agent = yield* agents.agent(tenantId, agentId)
        yield* orUnavailable(sql.withTransaction(Effect.gen(function*() {
          yield* agentsRepo.findForUpdate(tenantId, agent.id)
          const versions = yield* agentsRepo.listVersions(tenantId, agent.id)
          const problem = rolloutProblem(agent.id, entries, new Set(versions.map((v) => v.id.toLowerCase())))
          if (problem !== undefined) return yield* new InvalidAgentInput({ message: problem })
          const rows = yield* Effect.forEach(entries, (entry) =>
            Effect.map(ids.uuid, (id) => ({
              id,
              agentVersionId: entry.agent_version_id.toLowerCase(),
              trafficPercentage: entry.traffic_percentage
            })))
          yield* repo.replace(tenantId, agent.id, rows)
          // Promotion: a published version given all the traffic becomes the agent's published version.
          const whole = rows.find((row) => row.trafficPercentage === 100)
          const promoted = whole === undefined ? undefined : versions.find((v) => v.id.toLowerCase() === whole.agentVersionId)
          if (promoted !== undefined && promoted.status === "published") {
            yield* agentsRepo.setPublishedVersion(tenantId, agent.id, promoted.id)
          }
        })))
        return yield* repo.list(tenantId, agent.id)
      }
    )

    /**
     * Promotion as governance applies it: under the agent row lock, and only while the agent
     * still publishes `baselineId` and the split is still `expected` (what was judged), the
     * canary is published (frozen), made the agent's published version and given 100%; the
     * baseline leaves the split. False when anything changed, e.g. another replica promoted it
     * first. Runs in the caller's transaction when there is one.
     */
    const promote = Effect.fn("Rollouts.promote")(function*(
      tenantId: string,
      agentId: string,
      promotion: {
        readonly canaryId: string
        readonly baselineId: string
        readonly expected: ReadonlyArray<{ readonly agent_version_id: string; readonly traffic_percentage: number }>
      }
    ) {
      return yield* orUnavailable(sql.withTransaction(Effect.gen(function*() {
        const locked = yield* agentsRepo.findForUpdate(tenantId, agentId)
        if (Option.isNone(locked) || locked.value.published_version_id !== promotion.baselineId) return false
        const current = yield* repo.weights(tenantId, agentId)
        const same = current.length === promotion.expected.length && current.every((w, i) =>
          w.agent_version_id === promotion.expected[i]!.agent_version_id &&
          w.traffic_percentage === promotion.expected[i]!.traffic_percentage
        )
        if (!same) return false
        const rows = yield* Effect.forEach(
          current.filter((w) => w.agent_version_id !== promotion.baselineId),
          (w) =>
            Effect.map(ids.uuid, (id) => ({
              id,
              agentVersionId: w.agent_version_id,
              trafficPercentage: w.agent_version_id === promotion.canaryId ? 100 : 0
            }))
        )
        yield* agentsRepo.markPublished(tenantId, promotion.canaryId)
        yield* repo.replace(tenantId, agentId, rows)
        yield* agentsRepo.setPublishedVersion(tenantId, agentId, promotion.canaryId)
        return true
      })))
    })

    return { list, replace, promote } as const
  }),
  dependencies: [Agents.Default, AgentsRepo.Default, RolloutsRepo.Default]
}) {}
