import { Clock, Effect, Either, ParseResult, Schema } from "effect"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"
import type { TenantConfig } from "../Tenants/Config.js"
import { businessHours } from "../Automations/BusinessHours.js"
import { EscalateCall } from "./EscalateCall.js"

/** A tool the agent may call, described as the OpenAI Realtime API expects it. */
export interface ToolDefinition {
  readonly name: string
  readonly description: string
  readonly parameters: Record<string, unknown>
}

/** The call a tool runs for. */
export interface ToolContext {
  readonly tenantId: string
  readonly tenantConfig: TenantConfig
  readonly callSid: string | null
  readonly streamSid: string | null
}

export interface ToolOutcome {
  /** JSON sent back to the model as the function_call_output. */
  readonly output: unknown
  /** What the media bridge must do after the model's reply. */
  readonly action?: "end_call" | "escalated"
}

export class ToolFailed extends Schema.TaggedError<ToolFailed>()("ToolFailed", {
  name: Schema.String,
  message: Schema.String
}) {
  readonly status = 502 as const
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

const EscalateArgs = Schema.Struct({
  reason: Schema.String,
  department: Schema.optional(Schema.String),
  /** Only honoured when it is one of the tenant's configured escalation numbers. */
  target_number: Schema.optional(Schema.String)
})
const EndCallArgs = Schema.Struct({ reason: Schema.optional(Schema.String) })
const BusinessHoursArgs = Schema.Struct({ timezone: Schema.optional(Schema.String) })

/** Arguments arrive as the model wrote them: absent means `{}`. */
const decodeArgs = <A, I>(name: string, schema: Schema.Schema<A, I>, args: unknown) =>
  Schema.decodeUnknown(schema)(args ?? {}).pipe(
    Effect.mapError((error) =>
      new ToolFailed({ name, message: `invalid arguments: ${ParseResult.TreeFormatter.formatErrorSync(error)}` })
    )
  )

/**
 * The tools a tenant's agent can call: their definitions (sent to the model) and their
 * implementations (run by the media bridge, and by `POST /test-function`). The bridge
 * applies its own timeout; a failure is reported to the model, never thrown at the call.
 */
export class FunctionRegistry extends Effect.Service<FunctionRegistry>()("FunctionRegistry", {
  effect: Effect.gen(function*() {
    const escalation = yield* EscalateCall
    const liveCalls = yield* LiveCalls

    const execute = Effect.fn("FunctionRegistry.execute")(
      function*(name: string, args: unknown, context: ToolContext): Effect.fn.Return<ToolOutcome, ToolFailed> {
        yield* Effect.annotateCurrentSpan({ tool: name, tenant_id: context.tenantId })
        const fail = (message: string) => new ToolFailed({ name, message })
        switch (name) {
          case "escalate_call_to_human": {
            const input = yield* decodeArgs(name, EscalateArgs, args)
            if (context.callSid === null) return yield* fail("there is no live call to transfer")
            const target = yield* escalation.transfer({
              tenantId: context.tenantId,
              config: context.tenantConfig,
              callSid: context.callSid,
              streamSid: context.streamSid,
              reason: input.reason,
              department: input.department,
              targetNumber: input.target_number
            }).pipe(Effect.mapError(fail))
            if (context.streamSid !== null) {
              yield* liveCalls.markEscalated(context.tenantId, context.streamSid, target)
            }
            return { output: { ok: true, transferred_to: target, reason: input.reason }, action: "escalated" }
          }
          case "end_call": {
            const input = yield* decodeArgs(name, EndCallArgs, args)
            return { output: { ok: true, ending: true, reason: input.reason ?? null }, action: "end_call" }
          }
          case "check_business_hours": {
            const input = yield* decodeArgs(name, BusinessHoursArgs, args)
            const now = new Date(yield* Clock.currentTimeMillis)
            const answer = businessHours(context.tenantConfig, now, input.timezone)
            return Either.isRight(answer) ? { output: answer.right } : yield* fail(answer.left)
          }
          default:
            return yield* fail(`unknown tool: ${name}`)
        }
      }
    )

    return {
      definitions: (_tenant: TenantConfig): Effect.Effect<ReadonlyArray<ToolDefinition>> => Effect.succeed(BUILT_IN),
      execute
    } as const
  }),
  dependencies: [EscalateCall.Default]
}) {}
