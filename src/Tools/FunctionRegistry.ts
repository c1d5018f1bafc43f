import { Clock, Effect, Either, ParseResult, Schema } from "effect"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"
import type { TenantConfig } from "../Tenants/Config.js"
import { businessHours } from "../Automations/BusinessHours.js"
import { EscalateCall } from "./EscalateCall.js"
import { type AutomationInput, Automations } from "../Automations/Automations.js"
import type { AutomationError } from "../Automations/Errors.js"
import { automationTools, SMS_TOOLS } from "../Automations/ToolDefinitions.js"
import { GuardedHttpClient } from "../Egress/GuardedHttpClient.js"
import { Ids } from "../Ids.js"
import { invokeTenantTool, tenantTool } from "./TenantTools.js"
import { ToolFailed } from "./Errors.js"

export { ToolFailed } from "./Errors.js"

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
  /** The caller's number, when known (sent to tenant tools, texted by SMS tools). */
  readonly customerPhone?: string | null
  /** The live call's conversation so far (a warm transfer's summary and tools run during a call). */
  readonly transcript?: () => ReadonlyArray<{ readonly role: string; readonly content: string }>
}

export interface ToolOutcome {
  /** JSON sent back to the model as the function_call_output. */
  readonly output: unknown
  /** What the media bridge must do after the model's reply. */
  readonly action?: "end_call" | "escalated"
}

const BUILT_IN: ReadonlyArray<ToolDefinition> = [
  {
    name: "escalate_call_to_human",
    description: "Transfer the caller to a human agent when they ask for one or the request is beyond the assistant.",
    parameters: {
      type: "object",
      properties: {
        reason: { type: "string", description: "Why the caller needs a human" },
        department: { type: "string", description: "Team to route to, when known" },
        mode: {
          type: "string",
          enum: ["cold", "warm"],
          description:
            "cold (default): put the caller straight through; warm: a person is called first and hears a summary, you stay with the caller until they join"
        }
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
    name: "request_callback",
    description: "Schedule a call back to the caller at the time they asked for; a person follows up then.",
    parameters: {
      type: "object",
      properties: {
        callback_at: { type: "string", description: "When to call back: ISO 8601 with a time zone, e.g. 2026-03-03T15:00:00-05:00" },
        reason: { type: "string", description: "What the callback is about" }
      },
      required: ["callback_at"]
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
  reason: Schema.String.pipe(Schema.maxLength(1_000)),
  department: Schema.optional(Schema.String.pipe(Schema.maxLength(200))),
  /** Only honoured when it is one of the tenant's configured escalation numbers. */
  target_number: Schema.optional(Schema.String),
  mode: Schema.optional(Schema.Literal("cold", "warm"))
})

/** A plain summary for the person taking a warm transfer: the reason and the last turns said. */
export const transferSummary = (reason: string, transcript: ReadonlyArray<{ readonly role: string; readonly content: string }>) => {
  const turns = transcript.slice(-6).map((turn) => `${turn.role === "user" ? "Caller" : "Assistant"}: ${turn.content}`)
  const text = [`Incoming transfer. Reason: ${reason}.`, ...(turns.length === 0 ? [] : ["Recent conversation:", ...turns])].join(" ")
  return text.length > 1_500 ? `${text.slice(0, 1_497)}...` : text
}
const EndCallArgs = Schema.Struct({ reason: Schema.optional(Schema.String) })
const BusinessHoursArgs = Schema.Struct({ timezone: Schema.optional(Schema.String) })
/** A moment with its zone, so "3 pm" means what the caller meant (CallTasks reads the same field). */
const CallbackArgs = Schema.Struct({
  callback_at: Schema.String.pipe(Schema.pattern(/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/i), Schema.maxLength(64)),
  reason: Schema.optional(Schema.String.pipe(Schema.maxLength(1_000)))
})

/** A tool's arguments as an automation's payload: the call's own fields win over the model's. */
const automationInput = (args: unknown, context: ToolContext): AutomationInput => {
  const given = typeof args === "object" && args !== null && !Array.isArray(args) ? args as Record<string, unknown> : {}
  return {
    call_sid: context.callSid,
    session_id: context.streamSid ?? context.callSid,
    customer_phone: context.customerPhone ?? null,
    reason: typeof given.reason === "string" ? given.reason : null,
    metadata: given
  }
}

const isTimeZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone })
    return true
  } catch {
    return false
  }
}

/** Arguments arrive as the model wrote them: absent means `{}`. */
const decodeArgs = <A, I>(name: string, schema: Schema.Schema<A, I>, args: unknown) =>
  Schema.decodeUnknown(schema)(args ?? {}).pipe(
    Effect.mapError((error) =>
      new ToolFailed({ name, message: `invalid arguments: ${ParseResult.TreeFormatter.formatErrorSync(error)}`, refused: true })
    )
  )

/**
 * A tenant's tool definitions, made once per tenant config (configs are immutable values, kept
 * by the tenant cache): a live call keeps its list for its length, and one made per call was
 * an array and its backing store each (~0.07 KB per call).
 */
const toolsByConfig = new WeakMap<TenantConfig, ReadonlyArray<ToolDefinition>>()

const toolsOf = (tenant: TenantConfig): ReadonlyArray<ToolDefinition> => {
  let tools = toolsByConfig.get(tenant)
  if (tools === undefined) {
    const extra = [
      ...automationTools(tenant),
      ...(tenant.tools ?? []).map((tool) => ({
        name: tool.name,
        description: tool.description,
        parameters: tool.parameters as Record<string, unknown>
      }))
    ]
    tools = extra.length === 0 ? BUILT_IN : [...BUILT_IN, ...extra]
    toolsByConfig.set(tenant, tools)
  }
  return tools
}

/**
 * The tools a tenant's agent can call: their definitions (sent to the model) and their
 * implementations (run by the media bridge, and by `POST /test-function`). The bridge
 * applies its own timeout; a failure is reported to the model, never thrown at the call.
 */
export class FunctionRegistry extends Effect.Service<FunctionRegistry>()("FunctionRegistry", {
  effect: Effect.gen(function*() {
    const escalation = yield* EscalateCall
    const liveCalls = yield* LiveCalls
    const automations = yield* Automations
    const egress = yield* GuardedHttpClient
    const ids = yield* Ids

    /** An automation run as a tool: bad input refuses, an unconfigured provider is unavailable. */
    const automation = <A>(name: string, work: Effect.Effect<A, AutomationError>) =>
      work.pipe(
        Effect.map((output): ToolOutcome => ({ output: { ok: true, ...(output as object) } })),
        Effect.mapError((error) =>
          new ToolFailed({
            name,
            message: error.message,
            refused: error._tag === "AutomationInvalid",
            unavailable: error._tag === "AutomationUnavailable"
          })
        )
      )

    const execute = Effect.fn("FunctionRegistry.execute")(
      function*(name: string, args: unknown, context: ToolContext): Effect.fn.Return<ToolOutcome, ToolFailed> {
        yield* Effect.annotateCurrentSpan({ tool: name, tenant_id: context.tenantId })
        const fail = (message: string) => new ToolFailed({ name, message })
        const tenant = { tenantId: context.tenantId, config: context.tenantConfig }
        const refuse = (message: string) => new ToolFailed({ name, message, refused: true })
        switch (name) {
          case "escalate_call_to_human": {
            const input = yield* decodeArgs(name, EscalateArgs, args)
            if (context.callSid === null) return yield* refuse("there is no live call to transfer")
            const mode = input.mode ?? "cold"
            const target = yield* escalation.transfer({
              tenantId: context.tenantId,
              config: context.tenantConfig,
              callSid: context.callSid,
              streamSid: context.streamSid,
              reason: input.reason,
              department: input.department,
              targetNumber: input.target_number,
              mode,
              initiatedBy: "ai",
              summary: transferSummary(input.reason, context.transcript?.() ?? [])
            }).pipe(Effect.mapError((error) => fail(error.message)))
            if (mode === "warm") {
              // The caller stays with the agent until the person answers (or does not: then it is told).
              const output = { ok: true, transferring_to: target, mode, reason: input.reason, note: "Stay with the caller until a person joins." }
              return { output }
            }
            if (context.streamSid !== null) {
              yield* liveCalls.markEscalated(context.tenantId, context.streamSid, target)
            }
            return { output: { ok: true, transferred_to: target, mode, reason: input.reason }, action: "escalated" }
          }
          case "end_call": {
            const input = yield* decodeArgs(name, EndCallArgs, args)
            return { output: { ok: true, ending: true, reason: input.reason ?? null }, action: "end_call" }
          }
          case "check_business_hours": {
            const input = yield* decodeArgs(name, BusinessHoursArgs, args)
            if (input.timezone !== undefined && !isTimeZone(input.timezone)) {
              return yield* refuse(`unknown time zone: ${input.timezone}`)
            }
            const now = new Date(yield* Clock.currentTimeMillis)
            const answer = businessHours(context.tenantConfig, now, input.timezone)
            return Either.isRight(answer) ? { output: answer.right } : yield* fail(answer.left)
          }
          case "request_callback": {
            // The task itself is made with the call's record (CallbackTasks/CallTasks.ts).
            const input = yield* decodeArgs(name, CallbackArgs, args)
            const at = Date.parse(input.callback_at)
            if (Number.isNaN(at)) return yield* refuse(`callback_at is not a valid time: ${input.callback_at}`)
            if (at <= (yield* Clock.currentTimeMillis)) return yield* refuse("callback_at is in the past")
            const output = { ok: true, callback_at: new Date(at).toISOString(), reason: input.reason ?? null }
            return { output }
          }
          case "evaluate_escalation_need":
            return yield* automation(name, automations.escalationNeed(tenant, automationInput(args, context), context.transcript?.()))
          case "send_loop_followup_email":
            return yield* automation(name, automations.email(tenant, automationInput(args, context)))
          default: {
            const sms = SMS_TOOLS.find((tool) => tool.definition.name === name)
            if (sms !== undefined) return yield* automation(name, automations.sms(tenant, sms.kind, automationInput(args, context)))
            const own = tenantTool(context.tenantConfig, name)
            if (own === undefined) return yield* refuse(`unknown tool: ${name}`)
            const output = yield* invokeTenantTool(own, args, context).pipe(
              Effect.provideService(GuardedHttpClient, egress),
              Effect.provideService(Ids, ids)
            )
            return { output }
          }
        }
      }
    )

    return {
      /** Built-ins, the automations the tenant set up, then the tenant's own tools. */
      definitions: (tenant: TenantConfig): Effect.Effect<ReadonlyArray<ToolDefinition>> =>
        Effect.sync(() => toolsOf(tenant)),
      execute
    } as const
  }),
  dependencies: [EscalateCall.Default, Automations.Default]
}) {}
