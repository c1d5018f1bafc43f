import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { asAdminErrors } from "../Http/ErrorMapping.js"
import { Rollouts } from "./Rollouts.js"
import { AdminAgentVersionRolloutsResponse, type AgentVersionRollout } from "./Api.js"

const response = (rollouts: ReadonlyArray<AgentVersionRollout>) =>
  new AdminAgentVersionRolloutsResponse({ ok: true, count: rollouts.length, rollouts })

export const AgentRolloutsHttp = HttpApiBuilder.group(Api, "agentRollouts", (handlers) =>
  Effect.gen(function*() {
    const rollouts = yield* Rollouts
    return handlers
      .handle("list", ({ path }) =>
        rollouts.list(path.tenant_id, path.agent_id).pipe(Effect.map(response), asAdminErrors))
      .handle("replace", ({ path, payload }) =>
        rollouts.replace(path.tenant_id, path.agent_id, payload.entries ?? []).pipe(Effect.map(response), asAdminErrors))
  }))
