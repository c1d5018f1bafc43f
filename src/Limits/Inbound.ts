import { Effect, Option } from "effect"
import { CallbackTasks } from "../CallbackTasks/CallbackTasks.js"
import type { CallSeen } from "../CallLogs/Writes.js"
import { CreateCallbackTaskRequest } from "../CallbackTasks/Schemas.js"
import { AppConfig } from "../Config.js"
import { isE164 } from "../Twilio/Account.js"
import { sayAndHangUp } from "../Twilio/Twiml.js"
import type { LimitRefused } from "./Errors.js"
import { type LimitedTenant, Limits } from "./Limits.js"
import { effectiveLimits } from "./Settings.js"
import { fnSpanned } from "../Observability/Spans.js"

export const BUSY_MESSAGE =
  "Thank you for calling. All of our lines are busy right now. Please try again in a few minutes. Goodbye."
export const CALLBACK_MESSAGE =
  "Thank you for calling. All of our lines are busy right now. We have noted your number and will call you back shortly. Goodbye."
export const CLOSED_MESSAGE = "Thank you for calling. We are unable to take your call right now. Please try again later. Goodbye."

/**
 * Inbound calls against the caps: None lets the call through (it then counts until it ends);
 * Some is the TwiML the caller hears instead. The tenant chooses (limits.over_capacity,
 * limits.inbound_over_budget) between a polite hang-up and that plus a callback task.
 */
export class InboundGate extends Effect.Service<InboundGate>()("InboundGate", {
  effect: Effect.gen(function*() {
    const limits = yield* Limits
    const tasks = yield* CallbackTasks
    const platform = yield* AppConfig

    const callBack = (tenant: LimitedTenant, callSid: string, from: string | null, refusal: LimitRefused) =>
      from === null || !isE164(from)
        ? Effect.succeed(false)
        : tasks.create(tenant.tenantId, new CreateCallbackTaskRequest({
          disposition: "callback_requested",
          customer_phone: from,
          call_sid: callSid,
          created_by: "limits",
          summary: "Caller could not be taken: the tenant was at a call limit",
          metadata: { reason: refusal.reason }
        })).pipe(
          Effect.as(true),
          Effect.catchAll((error) => Effect.logWarning("could not create a callback task", error.message).pipe(Effect.as(false)))
        )

    /** With `seen`, a call let through has its call log's first sighting recorded by the same statement. */
    const check = fnSpanned("InboundGate.check")(function*(tenant: LimitedTenant, callSid: string, from: string | null, seen?: CallSeen) {
      const work = { kind: "inbound_call", callSid, from } as const
      const refusal = yield* (seen === undefined ? limits.admit(tenant, work) : limits.admitSeen(tenant, work, seen)).pipe(
        Effect.as(Option.none<LimitRefused>()),
        Effect.catchTag("LimitRefused", (refused) => Effect.succeed(Option.some(refused)))
      )
      if (Option.isNone(refusal)) return Option.none<string>()
      const settings = effectiveLimits(tenant.config, platform)
      const budget = refusal.value.reason === "budget_exhausted"
      const choice = budget ? settings.inboundOverBudget : settings.overCapacity
      if (choice === "callback_task" && (yield* callBack(tenant, callSid, from, refusal.value))) {
        return Option.some(sayAndHangUp(CALLBACK_MESSAGE))
      }
      return Option.some(sayAndHangUp(budget ? CLOSED_MESSAGE : BUSY_MESSAGE))
    })

    return { check } as const
  })
}) {}
