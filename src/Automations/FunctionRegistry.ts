import { Effect } from "effect"
import type { TenantConfig } from "../Tenants/Domain.js"

/** A tool the agent may call, described as the OpenAI Realtime API expects it. */
export interface ToolDefinition {
  readonly name: string
  readonly description: string
  readonly parameters: Record<string, unknown>
}

const BUILT_IN: ReadonlyArray<ToolDefinition> = [
  {
    name: "escalate_call_to_human",
    description: "Transfer the caller to a human agent when they ask for one or the request is beyond the assistant.",
    parameters: {
      type: "object",
      properties: {
        reason: { type: "string", description: "Why the caller needs a human" },
        department: { type: "string", description: "Team to route to, when known" }
      },
      required: ["reason"]
    }
  },
  {
    name: "end_call",
    description: "Hang up once the conversation is complete and the caller has said goodbye.",
    parameters: {
      type: "object",
      properties: { reason: { type: "string", description: "Why the call is ending" } }
    }
  },
  {
    name: "check_business_hours",
    description: "Tell whether the business is open now, in the business's time zone.",
    parameters: {
      type: "object",
      properties: { timezone: { type: "string", description: "IANA time zone, e.g. America/New_York" } }
    }
  }
]

/**
 * The tools a tenant's agent can call. Built-in definitions live here; their
 * implementations run in the call (Calls/Media), where the call's context is.
 */
export class FunctionRegistry extends Effect.Service<FunctionRegistry>()("FunctionRegistry", {
  succeed: {
    definitions: (_tenant: TenantConfig): Effect.Effect<ReadonlyArray<ToolDefinition>> => Effect.succeed(BUILT_IN)
  }
}) {}
