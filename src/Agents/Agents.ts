import * as SqlClient from "@effect/sql/SqlClient"
import { Effect, Option } from "effect"
import { orUnavailable } from "../Database/Errors.js"
import { TenantCache } from "../TenantCache/TenantCache.js"
import { AgentVersionConfig, type CreateAgent } from "./Api.js"
import { AgentsRepo } from "./Repo.js"
import { AgentNotFound, AgentVersionNotFound, InvalidAgentInput } from "./Errors.js"
import { missingPrompt } from "../Prompts/Library.js"
import { requireTenant } from "./TenantGuard.js"
import { Ids } from "../Ids.js"
import { RolloutsRepo } from "../Rollouts/Repo.js"
import { AgentCache } from "./AgentCache.js"

/** Every config key written (null when unset), so stored documents have one shape. */
const normalizeConfig = (config: AgentVersionConfig | undefined) => ({
  agent_name: config?.agent_name ?? null,
  assistant_profile: config?.assistant_profile ?? null,
  chat_model: config?.chat_model ?? null,
  greeting: config?.greeting ?? null,
  instructions: config?.instructions ?? null,
  realtime_model: config?.realtime_model ?? null,
  voice: config?.voice ?? null
})

/**
 * A tenant's agents and their versions. Versions are numbered 1, 2, 3... per agent under
 * the agent row lock; publishing points the agent at a version and freezes that version
 * (there is no way to edit a version, and a published one never returns to draft).
 */
export class Agents extends Effect.Service<Agents>()("Agents", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const repo = yield* AgentsRepo
    const cache = yield* TenantCache
    const ids = yield* Ids
    const rollouts = yield* RolloutsRepo
    const agentCache = yield* AgentCache
    const tenantExists = (tenantId: string) => Effect.provideService(requireTenant(tenantId), TenantCache, cache)

    /** Committed, then this replica's agent cache forgets the tenant (the others hear the triggers' NOTIFY). */
    const inTransaction = <A, E, R>(tenantId: string, effect: Effect.Effect<A, E, R>) =>
      Effect.ensuring(orUnavailable(sql.withTransaction(effect)), agentCache.evict(tenantId))

    /** The tenant's agent, or 404 (also for another tenant's agent and for ids that are not UUIDs). */
    const agent = (tenantId: string, agentId: string) =>
      repo.find(tenantId, agentId).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new AgentNotFound({ agentId })),
          onSome: Effect.succeed
        }))
      )

    const version = (tenantId: string, versionId: string) =>
      repo.findVersion(tenantId, versionId).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new AgentVersionNotFound({ versionId })),
          onSome: Effect.succeed
        }))
      )

    const list = Effect.fn("Agents.list")(function*(tenantId: string) {
      yield* tenantExists(tenantId)
      return yield* repo.list(tenantId)
    })

    const create = Effect.fn("Agents.create")(function*(tenantId: string, input: CreateAgent) {
      yield* tenantExists(tenantId)
      return yield* repo.insert({
        id: yield* ids.uuid,
        tenantId,
        agentKey: input.agent_key,
        name: input.name.trim(),
        description: input.description ?? null
      }).pipe(Effect.ensuring(agentCache.evict(tenantId)))
    })

    const listVersions = Effect.fn("Agents.listVersions")(function*(tenantId: string, agentId: string | null) {
      yield* tenantExists(tenantId)
      if (agentId !== null) yield* agent(tenantId, agentId)
      return yield* repo.listVersions(tenantId, agentId)
    })

    const createVersion = Effect.fn("Agents.createVersion")(
      function*(tenantId: string, agentId: string, config: AgentVersionConfig | undefined) {
        const tenant = yield* tenantExists(tenantId)
        // The spec's AgentVersionConfig has no system_prompt_key: `assistant_profile` names the version's prompt.
        const key = config?.assistant_profile
        const missing = key === undefined || key === null ? undefined : missingPrompt(tenant.config, key, "config.assistant_profile")
        if (missing !== undefined) return yield* new InvalidAgentInput({ message: missing })
        yield* agent(tenantId, agentId)
        const id = yield* ids.uuid
        yield* inTransaction(tenantId, Effect.gen(function*() {
          const locked = yield* repo.findForUpdate(tenantId, agentId)
          if (Option.isNone(locked)) return yield* new AgentNotFound({ agentId })
          yield* repo.insertVersion({ id, tenantId, agentId, config: normalizeConfig(config) })
        }))
        return yield* version(tenantId, id)
      }
    )

    const publish = Effect.fn("Agents.publish")(function*(tenantId: string, versionId: string) {
      yield* tenantExists(tenantId)
      const target = yield* version(tenantId, versionId)
      yield* inTransaction(tenantId, Effect.gen(function*() {
        const locked = yield* repo.findForUpdate(tenantId, target.agent_id)
        yield* repo.markPublished(tenantId, versionId)
        // A canary (part of the traffic, next to a published baseline) is frozen but stays a
        // canary: it becomes the agent's published version when promoted (docs/rollouts.md).
        const baseline = Option.isSome(locked) ? locked.value.published_version_id : null
        const share = (yield* rollouts.weights(tenantId, target.agent_id)).find((w) => w.agent_version_id === versionId)
        const isCanary = baseline !== null && baseline !== versionId && share !== undefined &&
          share.traffic_percentage > 0 && share.traffic_percentage < 100
        if (!isCanary) yield* repo.setPublishedVersion(tenantId, target.agent_id, versionId)
      }))
      return yield* version(tenantId, versionId)
    })

    return {
      list,
      create,
      listVersions,
      createVersion,
      publish,
      /** The tenant's agent or `AgentNotFound`; no tenant check (callers did it). */
      agent,
      /** The tenant's version or `AgentVersionNotFound`; no tenant check (callers did it). */
      version,
      tenantExists
    } as const
  }),
  dependencies: [AgentsRepo.Default, RolloutsRepo.Default, AgentCache.Default]
}) {}
