import * as SqlSchema from "@effect/sql/SqlSchema"
import { PgClient } from "@effect/sql-pg"
import { Effect, Option, Schema } from "effect"
import { orNothing, orRefused, orUnavailable } from "../Database/Errors.js"
import { Uuid } from "../Http/Schemas.js"
import { TenantNotFound } from "../Tenants/Errors.js"
import { Agent, AgentVersion, type AgentVersionConfig } from "./Api.js"
import { AgentKeyTaken } from "./Errors.js"

/** An agent row: the wire `Agent` plus which version it has published. */
export class AgentRow extends Agent.extend<AgentRow>("AgentRow")({
  published_version_id: Schema.NullOr(Uuid)
}) {}

const TenantAgent = Schema.Struct({ tenantId: Schema.String, agentId: Schema.String })
const TenantVersion = Schema.Struct({ tenantId: Schema.String, versionId: Schema.String })

/** SQL for `agents` and `agent_versions`. Writers that number or publish hold the agent row lock. */
export class AgentsRepo extends Effect.Service<AgentsRepo>()("AgentsRepo", {
  effect: Effect.gen(function*() {
    const sql = yield* PgClient.PgClient

    const versionSelect = sql`
      select v.id, v.agent_id, v.tenant_id, a.agent_key, a.name as agent_name, v.version_number, v.status,
             v.config, v.published_at, v.created_at, v.updated_at
      from agent_versions v join agents a on a.id = v.agent_id`

    const list = SqlSchema.findAll({
      Request: Schema.String,
      Result: AgentRow,
      execute: (tenantId) => sql`select * from agents where tenant_id = ${tenantId} order by created_at, agent_key`
    })

    const find = SqlSchema.findOne({
      Request: TenantAgent,
      Result: AgentRow,
      execute: ({ agentId, tenantId }) => sql`select * from agents where tenant_id = ${tenantId} and id = ${agentId}`
    })

    const findForUpdate = SqlSchema.findOne({
      Request: TenantAgent,
      Result: AgentRow,
      execute: ({ agentId, tenantId }) =>
        sql`select * from agents where tenant_id = ${tenantId} and id = ${agentId} for update`
    })

    // The tenant's default agent: the one keyed "default", else the only one.
    const findDefault = SqlSchema.findOne({
      Request: Schema.String,
      Result: AgentRow,
      execute: (tenantId) =>
        sql`select * from agents
            where tenant_id = ${tenantId}
              and (agent_key = 'default' or (select count(*) from agents where tenant_id = ${tenantId}) = 1)
            order by (agent_key = 'default') desc limit 1`
    })

    const insert = SqlSchema.single({
      Request: Schema.Struct({
        id: Schema.String,
        tenantId: Schema.String,
        agentKey: Schema.String,
        name: Schema.String,
        description: Schema.NullOr(Schema.String)
      }),
      Result: AgentRow,
      execute: (agent) =>
        sql`insert into agents (id, tenant_id, agent_key, name, description)
            values (${agent.id}, ${agent.tenantId}, ${agent.agentKey}, ${agent.name}, ${agent.description})
            returning *`
    })

    const listVersions = SqlSchema.findAll({
      Request: Schema.Struct({ tenantId: Schema.String, agentId: Schema.NullOr(Schema.String) }),
      Result: AgentVersion,
      execute: ({ agentId, tenantId }) =>
        sql`${versionSelect} where v.tenant_id = ${tenantId}
            and ${agentId === null ? sql`true` : sql`v.agent_id = ${agentId}`}
            order by a.created_at, a.agent_key, v.version_number`
    })

    const findVersion = SqlSchema.findOne({
      Request: TenantVersion,
      Result: AgentVersion,
      execute: ({ tenantId, versionId }) => sql`${versionSelect} where v.tenant_id = ${tenantId} and v.id = ${versionId}`
    })

    const insertVersion = (input: {
      readonly id: string
      readonly tenantId: string
      readonly agentId: string
      readonly config: typeof AgentVersionConfig.Encoded
    }) =>
      sql`insert into agent_versions (id, tenant_id, agent_id, version_number, status, config)
          select ${input.id}, ${input.tenantId}, ${input.agentId}, coalesce(max(version_number), 0) + 1, 'draft',
                 ${JSON.stringify(input.config)}::jsonb
          from agent_versions where agent_id = ${input.agentId}`

    const markPublished = (tenantId: string, versionId: string) =>
      sql`update agent_versions
          set status = 'published', published_at = coalesce(published_at, now()),
              updated_at = case when status = 'draft' then now() else updated_at end
          where tenant_id = ${tenantId} and id = ${versionId}`

    const setPublishedVersion = (tenantId: string, agentId: string, versionId: string) =>
      sql`update agents set published_version_id = ${versionId}, updated_at = now()
          where tenant_id = ${tenantId} and id = ${agentId}`

    return {
      list: (tenantId: string) => orUnavailable(list(tenantId)),
      /** None also for an id that is not a UUID: it cannot name an agent. */
      find: (tenantId: string, agentId: string) => orNothing(find({ tenantId, agentId }), Option.none()),
      findForUpdate: (tenantId: string, agentId: string) => orUnavailable(findForUpdate({ tenantId, agentId })),
      findDefault: (tenantId: string) => orUnavailable(findDefault(tenantId)),
      insert: (agent: { id: string; tenantId: string; agentKey: string; name: string; description: string | null }) =>
        orRefused(insert(agent).pipe(Effect.catchTag("NoSuchElementException", Effect.die)), {
          agents_tenant_id_agent_key_key: () => new AgentKeyTaken({ agentKey: agent.agentKey }),
          agents_tenant_id_fkey: () => new TenantNotFound({ tenantId: agent.tenantId })
        }),
      listVersions: (tenantId: string, agentId: string | null) => orUnavailable(listVersions({ tenantId, agentId })),
      /** None also for an id that is not a UUID. */
      findVersion: (tenantId: string, versionId: string) => orNothing(findVersion({ tenantId, versionId }), Option.none()),
      /** The config comes from the request (text PostgreSQL may refuse). */
      insertVersion: (input: Parameters<typeof insertVersion>[0]) => orRefused(Effect.asVoid(insertVersion(input))),
      markPublished: (tenantId: string, versionId: string) => orUnavailable(Effect.asVoid(markPublished(tenantId, versionId))),
      setPublishedVersion: (tenantId: string, agentId: string, versionId: string) =>
        orUnavailable(Effect.asVoid(setPublishedVersion(tenantId, agentId, versionId)))
    } as const
  })
}) {}
