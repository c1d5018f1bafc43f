import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { asAdminErrors } from "../Http/ErrorMapping.js"
import { Agents } from "./Agents.js"
import {
  AdminAgentResponse,
  AdminAgentsResponse,
  AdminAgentVersionResponse,
  AdminAgentVersionsResponse
} from "./Api.js"

export const AgentsHttp = HttpApiBuilder.group(Api, "agents", (handlers) =>
  Effect.gen(function*() {
    const agents = yield* Agents
    return handlers
      .handle("list", ({ path }) =>
        agents.list(path.tenant_id).pipe(
          Effect.map((list) => new AdminAgentsResponse({ ok: true, count: list.length, agents: list })),
          asAdminErrors
        ))
      .handle("create", ({ path, payload }) =>
        agents.create(path.tenant_id, payload).pipe(
          Effect.map((agent) => new AdminAgentResponse({ ok: true, agent })),
          asAdminErrors
        ))
      .handle("listVersions", ({ path, urlParams }) =>
        agents.listVersions(path.tenant_id, urlParams.agent_id ?? null).pipe(
          Effect.map((versions) => new AdminAgentVersionsResponse({ ok: true, count: versions.length, versions })),
          asAdminErrors
        ))
      .handle("createVersion", ({ path, payload }) =>
        agents.createVersion(path.tenant_id, payload.agent_id, payload.config).pipe(
          Effect.map((version) => new AdminAgentVersionResponse({ ok: true, version })),
          asAdminErrors
        ))
      .handle("publishVersion", ({ path }) =>
        agents.publish(path.tenant_id, path.version_id).pipe(
          Effect.map((version) => new AdminAgentVersionResponse({ ok: true, version })),
          asAdminErrors
        ))
  }))
