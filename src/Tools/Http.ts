import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect, Option } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { CallLogsRepo } from "../CallLogs/Repo.js"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"
import { ApiBadRequest } from "../Http/Errors.js"
import { FunctionTestFailed, FunctionTestResponse, ToolDefinition, ToolEntry, ToolsResponse } from "./Api.js"
import { FunctionRegistry } from "./FunctionRegistry.js"

export const FunctionRegistryHttp = HttpApiBuilder.group(Api, "functionRegistry", (handlers) =>
  Effect.gen(function*() {
    const registry = yield* FunctionRegistry
    const liveCalls = yield* LiveCalls
    const callLogs = yield* CallLogsRepo

    /** `session_id` names the call to act on: a live stream (on any replica), else one of the tenant's logged calls. */
    const callFor = (tenantId: string, sessionId: string | null | undefined) =>
      Effect.gen(function*() {
        if (sessionId === null || sessionId === undefined) return { callSid: null, streamSid: null }
        const live = yield* liveCalls.find(tenantId, sessionId)
        if (Option.isSome(live)) return { callSid: live.value.call_sid, streamSid: live.value.stream_sid }
        const callSid = yield* callLogs.callSidFor(tenantId, sessionId)
        return { callSid: callSid ?? null, streamSid: null }
      })

    return handlers
      .handle("tools", () =>
        Effect.gen(function*() {
          const tenant = yield* CurrentTenant
          const definitions = yield* registry.definitions(tenant.config)
          return new ToolsResponse({
            count: definitions.length,
            tools: definitions.map((tool) =>
              new ToolEntry({ name: tool.name, definition: new ToolDefinition({ type: "function", ...tool }) })
            )
          })
        }))
      .handle("testFunction", ({ payload }) =>
        Effect.gen(function*() {
          const tenant = yield* CurrentTenant
          const call = yield* callFor(tenant.tenantId, payload.context?.session_id)
          const outcome = yield* registry.execute(payload.name, payload.args, {
            tenantId: tenant.tenantId,
            tenantConfig: tenant.config,
            customerPhone: payload.context?.customer_phone ?? null,
            ...call
          })
          return new FunctionTestResponse({ ok: true, result: outcome.output, error: null })
        }).pipe(Effect.mapError((error) =>
          error._tag === "ToolFailed" && error.refused
            ? new ApiBadRequest({ message: error.message })
            : new FunctionTestFailed({ message: error.message })
        )))
  }))
