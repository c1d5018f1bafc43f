import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { AdminAuth } from "../Auth/Middleware.js"
import { AdminError } from "../Http/Errors.js"
import { Int, NonNegativeInt, Timestamp, Uuid } from "../Http/Schemas.js"
import { AgentPath } from "../Agents/Api.js"

export class AgentVersionRollout extends Schema.Class<AgentVersionRollout>("AgentVersionRollout")({
  agent_id: Uuid,
  agent_key: Schema.String,
  agent_name: Schema.String,
  agent_version_id: Uuid,
  created_at: Timestamp,
  id: Uuid,
  position: Int,
  tenant_id: Schema.String,
  traffic_percentage: Int,
  updated_at: Timestamp,
  version_number: Int
}) {}

export class SetAgentVersionRollout extends Schema.Class<SetAgentVersionRollout>("SetAgentVersionRollout")({
  agent_version_id: Uuid,
  traffic_percentage: Int.pipe(
    Schema.between(0, 100, { message: () => "traffic_percentage must be between 0 and 100" })
  ).annotations({ jsonSchema: { type: "integer", format: "int32" } })
}) {}

export class ReplaceAgentVersionRollouts extends Schema.Class<ReplaceAgentVersionRollouts>("ReplaceAgentVersionRollouts")({
  entries: Schema.optional(Schema.Array(SetAgentVersionRollout))
}) {}

export class AdminAgentVersionRolloutsResponse extends Schema.Class<AdminAgentVersionRolloutsResponse>("AdminAgentVersionRolloutsResponse")({
  count: NonNegativeInt,
  ok: Schema.Boolean,
  rollouts: Schema.Array(AgentVersionRollout)
}) {}

/** How an agent's calls are split between its versions (admin). */
export class AgentRolloutsApi extends HttpApiGroup.make("agentRollouts")
  .add(
    HttpApiEndpoint.get("list", "/api/v1/admin/tenants/:tenant_id/agents/:agent_id/rollouts")
      .setPath(AgentPath)
      .addSuccess(AdminAgentVersionRolloutsResponse)
      .annotate(OpenApi.Identifier, "list_agent_version_rollouts")
  )
  .add(
    HttpApiEndpoint.put("replace", "/api/v1/admin/tenants/:tenant_id/agents/:agent_id/rollouts")
      .setPath(AgentPath)
      .setPayload(ReplaceAgentVersionRollouts)
      .addSuccess(AdminAgentVersionRolloutsResponse)
      .addError(AdminError.BadRequest)
      .annotate(OpenApi.Identifier, "replace_agent_version_rollouts")
  )
  .addError(AdminError.NotFound)
  .addError(AdminError.Unavailable)
  .middleware(AdminAuth)
  .annotate(OpenApi.Title, "admin")
{}
