import { Effect } from "effect"
import type { TenantConfig } from "../Tenants/Config.js"
import type { TenantToolSetting } from "../Tenants/ToolSettings.js"
import { ToolFailed } from "./Errors.js"
import { signedPost } from "./SignedPost.js"

/** The call a tenant tool runs for (the parts of `ToolContext` it sends). */
export interface TenantToolCall {
  readonly tenantId: string
  readonly tenantConfig: TenantConfig
  readonly callSid: string | null
  readonly streamSid: string | null
  readonly customerPhone?: string | null
}

export const tenantTool = (config: TenantConfig, name: string): TenantToolSetting | undefined =>
  config.tools?.find((tool) => tool.name === name)

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * What the tenant's server receives: the arguments the model wrote, then the spec's
 * `AutomationPayload` fields of the call (these win: the model cannot name another call).
 */
export const toolPayload = (tool: TenantToolSetting, args: unknown, call: TenantToolCall) => ({
  ...(isObject(args) ? args : {}),
  call_sid: call.callSid,
  session_id: call.streamSid ?? call.callSid,
  customer_phone: call.customerPhone ?? null,
  metadata: { tool: tool.name, tenant_id: call.tenantId, arguments: args ?? {} }
})

/**
 * Runs a tenant's registered function: a signed POST to its URL within its `timeout_ms`; the
 * reply (bounded) is the tool's output. A failure says what happened, for the model to relay.
 */
export const invokeTenantTool = (tool: TenantToolSetting, args: unknown, call: TenantToolCall) =>
  signedPost(call.tenantConfig, tool.url, toolPayload(tool, args, call), tool.timeout_ms).pipe(
    Effect.flatMap((reply) =>
      reply._tag === "Answered"
        ? Effect.succeed(reply.body)
        : Effect.fail(new ToolFailed({ name: tool.name, message: `${tool.name} ${reply.message}` }))
    ),
    Effect.withSpan("TenantTools.invoke", { kind: "client", attributes: { tool: tool.name, tenant_id: call.tenantId } })
  )
