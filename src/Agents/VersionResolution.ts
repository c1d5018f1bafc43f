import { Effect, Option } from "effect"
import type { DatabaseUnavailable } from "../Database/Errors.js"
import type { AgentVersion } from "./Api.js"
import { type AgentRow, AgentsRepo } from "./Repo.js"
import { RolloutsRepo } from "../Rollouts/Repo.js"
import { pickVersion } from "../Rollouts/TrafficSplit.js"
import { AgentCache } from "./AgentCache.js"
import { spannedIf, spansExported } from "../Observability/Spans.js"

export interface ResolvedAgentVersion {
  readonly agentId: string
  readonly versionId: string
  readonly versionNumber: number
  readonly config: {
    readonly instructions: string | null
    readonly voice: string | null
    readonly realtime_model: string | null
    readonly greeting: string | null
    readonly assistant_profile: string | null
    readonly chat_model: string | null
    readonly system_prompt_key?: string | null
    /** The version's `agent_name` override, when set. */
    readonly agent_name?: string | null
  }
  /** Always set: the agent's key and display name (the version's `agent_name` override wins). */
  readonly agentKey?: string
  readonly agentName?: string
}

export interface ResolveInput {
  readonly tenantId: string
  readonly callSid: string
  /** null = the tenant's default agent: the one with agent_key "default", else its only agent. */
  readonly agentId: string | null
  /** A version pinned by the phone route or the request; wins whenever it exists in the tenant. */
  readonly pinnedVersionId: string | null
}

const toResolved = (version: AgentVersion): ResolvedAgentVersion => ({
  agentId: version.agent_id,
  versionId: version.id,
  versionNumber: version.version_number,
  config: {
    instructions: version.config.instructions ?? null,
    voice: version.config.voice ?? null,
    realtime_model: version.config.realtime_model ?? null,
    greeting: version.config.greeting ?? null,
    assistant_profile: version.config.assistant_profile ?? null,
    chat_model: version.config.chat_model ?? null,
    system_prompt_key: version.config.assistant_profile ?? null,
    agent_name: version.config.agent_name ?? null
  },
  agentKey: version.agent_key,
  agentName: version.config.agent_name ?? version.agent_name
})

/**
 * Which agent version serves a call: a pinned version (route or request) wins; otherwise
 * the agent's rollout split picks one deterministically from the call SID (see
 * TrafficSplit); otherwise the agent's published version. None when the tenant has no
 * such agent or the agent has nothing published and no rollout.
 */
export class VersionResolution extends Effect.Service<VersionResolution>()("VersionResolution", {
  effect: Effect.gen(function*() {
    const agents = yield* AgentsRepo
    const rollouts = yield* RolloutsRepo
    const cache = yield* AgentCache
    // Read through the per-replica cache: a call's set-up reads no agent rows (AgentCache).
    const versionShelf = cache.shelf<Option.Option<ResolvedAgentVersion>>()
    const agentShelf = cache.shelf<Option.Option<AgentRow>>()
    const weightsShelf = cache.shelf<ReadonlyArray<{ readonly agent_version_id: string; readonly traffic_percentage: number }>>()
    // A span per resolution only when spans are exported, chosen once (Observability/Spans.ts `spannedIf`).
    const traced = yield* spansExported

    const byId = (tenantId: string, versionId: string): Effect.Effect<Option.Option<ResolvedAgentVersion>, DatabaseUnavailable> =>
      versionShelf(tenantId, versionId, Effect.map(agents.findVersion(tenantId, versionId), Option.map(toResolved)))

    const agentFor = (tenantId: string, agentId: string | null): Effect.Effect<Option.Option<AgentRow>, DatabaseUnavailable> =>
      agentShelf(tenantId, agentId ?? "", agentId === null ? agents.findDefault(tenantId) : agents.find(tenantId, agentId))

    const resolve = spannedIf(traced, "VersionResolution.resolve", Effect.fnUntraced(
      function*(input: ResolveInput): Effect.fn.Return<Option.Option<ResolvedAgentVersion>, DatabaseUnavailable> {
        if (input.pinnedVersionId !== null) {
          const pinned = yield* byId(input.tenantId, input.pinnedVersionId)
          if (Option.isSome(pinned)) return pinned
          yield* Effect.logWarning("pinned agent version not found; resolving from the agent").pipe(
            Effect.annotateLogs({ tenant_id: input.tenantId, agent_version_id: input.pinnedVersionId })
          )
        }
        const agent = yield* agentFor(input.tenantId, input.agentId)
        if (Option.isNone(agent)) return Option.none()
        const weights = yield* weightsShelf(input.tenantId, agent.value.id, rollouts.weights(input.tenantId, agent.value.id))
        const chosen = pickVersion(weights, agent.value.id, input.callSid) ?? agent.value.published_version_id
        return chosen === null ? Option.none() : yield* byId(input.tenantId, chosen)
      }
    ))

    /**
     * `resolve` from the cache alone, as plain code (the webhook's warm path): the version, or
     * undefined when something is not cached yet or a pinned version is missing (`resolve` loads
     * it, or logs the fallback). Hits read on the way to an undefined are counted as hits.
     */
    const cached = (input: ResolveInput): Option.Option<ResolvedAgentVersion> | undefined => {
      if (input.pinnedVersionId !== null) {
        const pinned = versionShelf.peek(input.tenantId, input.pinnedVersionId)
        return pinned !== undefined && Option.isSome(pinned) ? pinned : undefined
      }
      const agent = agentShelf.peek(input.tenantId, input.agentId ?? "")
      if (agent === undefined) return undefined
      if (Option.isNone(agent)) return Option.none()
      const weights = weightsShelf.peek(input.tenantId, agent.value.id)
      if (weights === undefined) return undefined
      const chosen = pickVersion(weights, agent.value.id, input.callSid) ?? agent.value.published_version_id
      return chosen === null ? Option.none() : versionShelf.peek(input.tenantId, chosen)
    }

    /** `byId` from the cache alone, as plain code (a call's start): the version, or undefined to load it with `byId`. */
    const byIdCached = (tenantId: string, versionId: string): Option.Option<ResolvedAgentVersion> | undefined =>
      versionShelf.peek(tenantId, versionId)

    return { resolve, cached, byId, byIdCached } as const
  }),
  dependencies: [AgentsRepo.Default, RolloutsRepo.Default, AgentCache.Default]
}) {}
