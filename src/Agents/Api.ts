import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { AdminAuth } from "../Auth/Middleware.js"
import { AdminError } from "../Http/Errors.js"
import { Int, NonNegativeInt, optionalNullable, Text, Timestamp, Uuid } from "../Http/Schemas.js"

export class Agent extends Schema.Class<Agent>("Agent")({
  agent_key: Schema.String,
  created_at: Timestamp,
  description: optionalNullable(Schema.String),
  id: Uuid,
  name: Schema.String,
  tenant_id: Schema.String,
  updated_at: Timestamp
}) {}

export class AgentVersionConfig extends Schema.Class<AgentVersionConfig>("AgentVersionConfig")({
  agent_name: optionalNullable(Schema.String),
  /** The version's system prompt key: a prompt of the tenant's library (its `prompts`, or a built-in); wins over `instructions`. */
  assistant_profile: optionalNullable(Schema.String),
  chat_model: optionalNullable(Schema.String),
  greeting: optionalNullable(Schema.String),
  instructions: optionalNullable(Schema.String),
  realtime_model: optionalNullable(Schema.String),
  voice: optionalNullable(Schema.String)
}) {}

export const AgentVersionStatus = Schema.Literal("draft", "published").annotations({ identifier: "AgentVersionStatus" })

export class AgentVersion extends Schema.Class<AgentVersion>("AgentVersion")({
  agent_id: Uuid,
  agent_key: Schema.String,
  agent_name: Schema.String,
  config: AgentVersionConfig,
  created_at: Timestamp,
  id: Uuid,
  published_at: optionalNullable(Timestamp),
  status: AgentVersionStatus,
  tenant_id: Schema.String,
  updated_at: Timestamp,
  version_number: Int
}) {}

const AgentKey = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, {
    message: () => "agent_key must be 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit"
  })
)

const AgentName = Schema.String.pipe(
  Schema.filter((name) => name.trim().length > 0 && name.length <= 200, {
    message: () => "name must be 1-200 characters and not blank"
  })
)

export class CreateAgent extends Schema.Class<CreateAgent>("CreateAgent")({
  agent_key: AgentKey,
  description: optionalNullable(Text.Short),
  name: AgentName
}) {}

export class CreateAgentVersion extends Schema.Class<CreateAgentVersion>("CreateAgentVersion")({
  agent_id: Uuid,
  config: Schema.optional(AgentVersionConfig)
}) {}

export class AdminAgentResponse extends Schema.Class<AdminAgentResponse>("AdminAgentResponse")({
  agent: Agent,
  ok: Schema.Boolean
}) {}

export class AdminAgentsResponse extends Schema.Class<AdminAgentsResponse>("AdminAgentsResponse")({
  agents: Schema.Array(Agent),
  count: NonNegativeInt,
  ok: Schema.Boolean
}) {}

export class AdminAgentVersionResponse extends Schema.Class<AdminAgentVersionResponse>("AdminAgentVersionResponse")({
  ok: Schema.Boolean,
  version: AgentVersion
}) {}

export class AdminAgentVersionsResponse extends Schema.Class<AdminAgentVersionsResponse>("AdminAgentVersionsResponse")({
  count: NonNegativeInt,
  ok: Schema.Boolean,
  versions: Schema.Array(AgentVersion)
}) {}

export const TenantIdPath = Schema.Struct({
  tenant_id: Schema.String.annotations({ description: "Tenant identifier" })
})

export const AgentPath = Schema.Struct({
  tenant_id: Schema.String.annotations({ description: "Tenant identifier" }),
  agent_id: Schema.String.annotations({ description: "Agent id" })
})

/** A tenant's agents and their versions (admin). */
export class AgentsApi extends HttpApiGroup.make("agents")
  .add(
    HttpApiEndpoint.get("list", "/api/v1/admin/tenants/:tenant_id/agents")
      .setPath(TenantIdPath)
      .addSuccess(AdminAgentsResponse)
      .annotate(OpenApi.Identifier, "list_agents")
  )
  .add(
    HttpApiEndpoint.post("create", "/api/v1/admin/tenants/:tenant_id/agents")
      .setPath(TenantIdPath)
      .setPayload(CreateAgent)
      .addSuccess(AdminAgentResponse)
      .addError(AdminError.BadRequest)
      .annotate(OpenApi.Identifier, "create_agent")
  )
  .add(
    HttpApiEndpoint.get("listVersions", "/api/v1/admin/tenants/:tenant_id/agent-versions")
      .setPath(TenantIdPath)
      .setUrlParams(Schema.Struct({ agent_id: Schema.optional(Uuid) }))
      .addSuccess(AdminAgentVersionsResponse)
      .annotate(OpenApi.Identifier, "list_agent_versions")
  )
  .add(
    HttpApiEndpoint.post("createVersion", "/api/v1/admin/tenants/:tenant_id/agent-versions")
      .setPath(TenantIdPath)
      .setPayload(CreateAgentVersion)
      .addSuccess(AdminAgentVersionResponse)
      .addError(AdminError.BadRequest)
      .annotate(OpenApi.Identifier, "create_agent_version")
  )
  .add(
    HttpApiEndpoint.post("publishVersion", "/api/v1/admin/tenants/:tenant_id/agent-versions/:version_id/publish")
      .setPath(Schema.Struct({
        tenant_id: Schema.String.annotations({ description: "Tenant identifier" }),
        version_id: Schema.String.annotations({ description: "Agent version id" })
      }))
      .addSuccess(AdminAgentVersionResponse)
      .annotate(OpenApi.Identifier, "publish_agent_version")
  )
  .addError(AdminError.NotFound)
  .addError(AdminError.Unavailable)
  .middleware(AdminAuth)
  .annotate(OpenApi.Title, "admin")
{}
