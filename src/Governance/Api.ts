import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as OpenApi from "@effect/platform/OpenApi"
import { AdminAuth } from "../Auth/Middleware.js"
import { AdminError } from "../Http/Errors.js"
import { AgentPath } from "../Agents/Api.js"
import {
  AdminRolloutGovernanceEvaluationResponse,
  AdminRolloutGovernancePolicyResponse,
  AdminRolloutGovernanceSweepResponse,
  EvaluateRolloutGovernanceRequest,
  RolloutGovernanceSweepRequest,
  UpsertRolloutGovernancePolicy
} from "./Schemas.js"

/** Eval-gated rollout governance: per-agent policy, on-demand evaluation, and the cross-tenant sweep (admin). */
export class RolloutGovernanceApi extends HttpApiGroup.make("rolloutGovernance")
  .add(
    HttpApiEndpoint.get("getPolicy", "/api/v1/admin/tenants/:tenant_id/agents/:agent_id/rollout-policy")
      .setPath(AgentPath)
      .addSuccess(AdminRolloutGovernancePolicyResponse)
      .addError(AdminError.NotFound)
      .annotate(OpenApi.Identifier, "get_rollout_governance_policy")
  )
  .add(
    HttpApiEndpoint.put("upsertPolicy", "/api/v1/admin/tenants/:tenant_id/agents/:agent_id/rollout-policy")
      .setPath(AgentPath)
      .setPayload(UpsertRolloutGovernancePolicy)
      .addSuccess(AdminRolloutGovernancePolicyResponse)
      .addError(AdminError.BadRequest)
      .addError(AdminError.NotFound)
      .annotate(OpenApi.Identifier, "upsert_rollout_governance_policy")
  )
  .add(
    HttpApiEndpoint.post("evaluate", "/api/v1/admin/tenants/:tenant_id/agents/:agent_id/rollout-governance/evaluate")
      .setPath(AgentPath)
      .setPayload(EvaluateRolloutGovernanceRequest)
      .addSuccess(AdminRolloutGovernanceEvaluationResponse)
      .addError(AdminError.NotFound)
      .annotate(OpenApi.Identifier, "evaluate_rollout_governance")
  )
  .add(
    HttpApiEndpoint.post("sweep", "/api/v1/admin/rollout-governance/sweep")
      .setPayload(RolloutGovernanceSweepRequest)
      .addSuccess(AdminRolloutGovernanceSweepResponse)
      .addError(AdminError.BadRequest)
      .annotate(OpenApi.Identifier, "sweep_rollout_governance_admin")
  )
  .addError(AdminError.Unavailable)
  .middleware(AdminAuth)
  .annotate(OpenApi.Title, "admin")
{}
