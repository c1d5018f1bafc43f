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
import { spannedIf, spansExported } from "../Observability/Spans.js"

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
    const traced = yield* spansExported

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

    /** What the caller hears instead of the call, as the tenant chose (a callback task or not). */
    const refusalAnswer = (tenant: LimitedTenant, callSid: string, from: string | null, refusal: LimitRefused) => {
      const settings = effectiveLimits(tenant.config, platform)
      const budget = refusal.reason === "budget_exhausted"
      const choice = budget ? settings.inboundOverBudget : settings.overCapacity
      const hangUp = Option.some(sayAndHangUp(budget ? CLOSED_MESSAGE : BUSY_MESSAGE))
      return choice !== "callback_task"
        ? Effect.succeed(hangUp)
        : Effect.map(callBack(tenant, callSid, from, refusal), (called) => called ? Option.some(sayAndHangUp(CALLBACK_MESSAGE)) : hangUp)
    }

    /**
     * `seen` (an inbound call's first sighting) against the caps: None lets it through; with
     * `recordSighting` the admission's statement also records the sighting (Limits.admitInbound).
     * One path, traced or not: its span only when spans are exported, chosen when the layer is built.
     */
    const check = spannedIf(traced, "InboundGate.check", (tenant: LimitedTenant, seen: CallSeen, recordSighting: boolean) =>
      Effect.flatMap(limits.admitInbound(tenant, seen, recordSighting), (refusal) =>
        Option.isNone(refusal) ? Effect.succeedNone : refusalAnswer(tenant, seen.callSid, seen.from, refusal.value)))

    return { check } as const
  })
}) {}
