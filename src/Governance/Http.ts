import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { CurrentAdmin } from "../Auth/Middleware.js"
import { asAdminErrors } from "../Http/ErrorMapping.js"
import {
  AdminRolloutGovernanceEvaluationResponse,
  AdminRolloutGovernancePolicyResponse,
  AdminRolloutGovernanceSweepResponse
} from "./Schemas.js"
import { GovernanceSweep } from "./Sweep.js"
import { RolloutGovernance } from "./RolloutGovernance.js"

/** Tenants swept by the admin endpoint when no limit is given. */
const DEFAULT_SWEEP_LIMIT = 100

export const RolloutGovernanceHttp = HttpApiBuilder.group(Api, "rolloutGovernance", (handlers) =>
  Effect.gen(function*() {
    const governance = yield* RolloutGovernance
    const sweeper = yield* GovernanceSweep
    return handlers
      .handle("getPolicy", ({ path }) =>
        governance.getPolicy(path.tenant_id, path.agent_id).pipe(
          Effect.map((policy) => new AdminRolloutGovernancePolicyResponse({ ok: true, policy })),
          asAdminErrors
        ))
      .handle("upsertPolicy", ({ path, payload }) =>
        governance.upsertPolicy(path.tenant_id, path.agent_id, payload).pipe(
          Effect.map((policy) => new AdminRolloutGovernancePolicyResponse({ ok: true, policy })),
          asAdminErrors
        ))
      .handle("evaluate", ({ path, payload }) =>
        Effect.flatMap(CurrentAdmin, (admin) =>
          governance.evaluate(path.tenant_id, path.agent_id, { apply: payload.apply ?? false, actor: `admin:${admin.actor}` })).pipe(
            Effect.map((evaluation) => new AdminRolloutGovernanceEvaluationResponse({ ok: true, evaluation })),
            asAdminErrors
          ))
      .handle("sweep", ({ payload }) =>
        Effect.flatMap(CurrentAdmin, (admin) =>
          sweeper.sweep({
            limit: payload.limit ?? DEFAULT_SWEEP_LIMIT,
            apply: payload.apply ?? false,
            authToken: payload.auth_token ?? null,
            actor: `admin:${admin.actor}`,
            dueAfterSeconds: null
          })).pipe(
            Effect.map((result) => new AdminRolloutGovernanceSweepResponse({ ok: true, result })),
            asAdminErrors
          ))
  }))
