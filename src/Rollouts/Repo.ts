import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import { Effect, Schema } from "effect"
import { orUnavailable } from "../Database/Errors.js"
import { AgentVersionRollout } from "./Api.js"

export interface RolloutEntry {
  readonly id: string
  readonly agentVersionId: string
  readonly trafficPercentage: number
}

/** SQL for `agent_version_rollouts`. Writers hold the agent row lock (see Agents). */
export class RolloutsRepo extends Effect.Service<RolloutsRepo>()("RolloutsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const list = SqlSchema.findAll({
      Request: Schema.Struct({ tenantId: Schema.String, agentId: Schema.String }),
      Result: AgentVersionRollout,
      execute: ({ agentId, tenantId }) =>
        sql`select r.id, r.tenant_id, r.agent_id, r.agent_version_id, a.agent_key, a.name as agent_name,
                   v.version_number, r.traffic_percentage, r.position, r.created_at, r.updated_at
            from agent_version_rollouts r
            join agents a on a.id = r.agent_id
            join agent_versions v on v.id = r.agent_version_id
            where r.tenant_id = ${tenantId} and r.agent_id = ${agentId}
            order by r.position`
    })

    /** Replaces the whole set; entries keep their order as `position` 0, 1, 2... and surviving rows their id. */
    const replace = (tenantId: string, agentId: string, entries: ReadonlyArray<RolloutEntry>) =>
      Effect.gen(function*() {
        const keep = entries.map((entry) => entry.agentVersionId)
        yield* sql`delete from agent_version_rollouts where tenant_id = ${tenantId} and agent_id = ${agentId}
                   and ${keep.length === 0 ? sql`true` : sql`agent_version_id not in ${sql.in(keep)}`}`
        if (entries.length === 0) return
        yield* sql`insert into agent_version_rollouts ${
          sql.insert(entries.map((entry, position) => ({
            id: entry.id,
            tenant_id: tenantId,
            agent_id: agentId,
            agent_version_id: entry.agentVersionId,
            traffic_percentage: entry.trafficPercentage,
            position
          })))
        }
        on conflict (agent_id, agent_version_id) do update set
          traffic_percentage = excluded.traffic_percentage,
          position = excluded.position,
          updated_at = case
            when agent_version_rollouts.traffic_percentage = excluded.traffic_percentage
             and agent_version_rollouts.position = excluded.position then agent_version_rollouts.updated_at
            else now() end`
        // Since when each version has had traffic: kept while it has some, restarted when it comes back from 0%.
        yield* sql`update agent_version_rollouts set serving_since =
            case when traffic_percentage = 0 then null else coalesce(serving_since, now()) end
          where tenant_id = ${tenantId} and agent_id = ${agentId}`
      })

    /** The split as resolution needs it, in position order. */
    const weights = SqlSchema.findAll({
      Request: Schema.Struct({ tenantId: Schema.String, agentId: Schema.String }),
      Result: Schema.Struct({ agent_version_id: Schema.String, traffic_percentage: Schema.Number }),
      execute: ({ agentId, tenantId }) =>
        sql`select agent_version_id, traffic_percentage from agent_version_rollouts
            where tenant_id = ${tenantId} and agent_id = ${agentId} order by position`
    })

    /** Hours each version in the split has had traffic, by the database clock (null at 0%). */
    const servedHours = (tenantId: string, agentId: string) =>
      sql<{ agent_version_id: string; hours: number | null }>`
        select agent_version_id::text as agent_version_id,
          (extract(epoch from now() - serving_since) / 3600)::float8 as hours
        from agent_version_rollouts where tenant_id = ${tenantId} and agent_id = ${agentId}`.pipe(
        Effect.map((rows) => new Map(rows.map((row) => [row.agent_version_id, row.hours])))
      )

    return {
      servedHours: (tenantId: string, agentId: string) => orUnavailable(servedHours(tenantId, agentId)),
      list: (tenantId: string, agentId: string) => orUnavailable(list({ tenantId, agentId })),
      replace: (tenantId: string, agentId: string, entries: ReadonlyArray<RolloutEntry>) =>
        orUnavailable(replace(tenantId, agentId, entries)),
      weights: (tenantId: string, agentId: string) => orUnavailable(weights({ tenantId, agentId }))
    } as const
  })
}) {}
