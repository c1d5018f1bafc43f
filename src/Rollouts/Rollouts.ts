import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Option } from "effect"
import { orUnavailable } from "../Database/Errors.js"
import { Ids } from "../Ids.js"
import { Agents } from "../Agents/Agents.js"
import { AgentsRepo } from "../Agents/Repo.js"
import { InvalidAgentInput } from "../Agents/Errors.js"
import type { SetAgentVersionRollout } from "./Api.js"
import { RolloutsRepo } from "./Repo.js"
import { AgentCache } from "../Agents/AgentCache.js"

/** The published version and the split, as `rewriteUnderLock` shows them to its plan. */
export interface SplitState {
  readonly publishedVersionId: string | null
  readonly split: ReadonlyArray<{ readonly agent_version_id: string; readonly traffic_percentage: number }>
}

/** A new split (in order), a version to publish with it (or null), and what the caller gets back. */
export interface SplitRewrite<A> {
  readonly entries: ReadonlyArray<{ readonly agentVersionId: string; readonly trafficPercentage: number }>
  readonly publish: string | null
  readonly result: A
}

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
    const agentCache = yield* AgentCache

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
        })).pipe(Effect.ensuring(agentCache.evict(tenantId))))
        return yield* repo.list(tenantId, agent.id)
      }
    )

    /**
     * Rewrites the split under the agent row lock (in the caller's transaction when there is one):
     * `plan` sees the published version and the split as they are now and returns the new split,
     * a version to publish (frozen, then made the agent's published version) and a result; or None
     * to change nothing. Governance decides its rollbacks and promotions this way, so a decision
     * made on an older read is applied only if it still holds.
     */
    const rewriteUnderLock = <A>(tenantId: string, agentId: string, plan: (state: SplitState) => Option.Option<SplitRewrite<A>>) =>
      orUnavailable(sql.withTransaction(Effect.gen(function*() {
        const locked = yield* agentsRepo.findForUpdate(tenantId, agentId)
        if (Option.isNone(locked)) return Option.none<A>()
        const split = yield* repo.weights(tenantId, agentId)
        const rewrite = plan({ publishedVersionId: locked.value.published_version_id, split })
        if (Option.isNone(rewrite)) return Option.none<A>()
        const { entries, publish, result } = rewrite.value
        if (publish !== null) yield* agentsRepo.markPublished(tenantId, publish)
        yield* repo.replace(tenantId, agentId, yield* Effect.forEach(entries, (e) => Effect.map(ids.uuid, (id) => ({ id, ...e }))))
        if (publish !== null) yield* agentsRepo.setPublishedVersion(tenantId, agentId, publish)
        return Option.some(result)
      }))).pipe(
        // This replica's agent cache at once; the others (and this one again) on the trigger's NOTIFY at commit.
        Effect.ensuring(agentCache.evict(tenantId)),
        Effect.withSpan("Rollouts.rewriteUnderLock")
      )

    return {
      list,
      replace,
      rewriteUnderLock,
      /** The split as stored, without the tenant and agent checks (callers did them). */
      split: (tenantId: string, agentId: string) => repo.list(tenantId, agentId),
      /** Hours each version in the split has had traffic (null at 0%). */
      servedHours: (tenantId: string, agentId: string) => repo.servedHours(tenantId, agentId)
    } as const
  }),
  dependencies: [Agents.Default, AgentsRepo.Default, RolloutsRepo.Default, AgentCache.Default]
}) {}
