import { Clock, Effect, Option } from "effect"
import { CallLogWrites } from "../CallLogs/Writes.js"
import { Limits } from "../Limits/Limits.js"
import { twilioCredentials } from "../Twilio/Account.js"
import { TwilioClient } from "../Twilio/Client.js"
import { dial } from "../Twilio/Twiml.js"
import { AppConfig } from "../Config.js"
import type { TenantConfig } from "../Tenants/Config.js"

const DEFAULT_ANNOUNCEMENT = "Please hold while I connect you to a member of our team."

/**
 * Where a transfer goes, from the tenant config:
 *   escalation: { number: "+15551230000", departments: { billing: "+15551230001" }, announcement: "..." }
 * (or the shorthand `escalation_number`). The model may name a department or a number, but
 * only numbers the tenant configured are ever dialled: a caller must not be able to talk
 * the agent into calling anywhere else.
 */
export const escalationTarget = (
  config: TenantConfig,
  department: string | undefined,
  requested: string | undefined
): Option.Option<string> => {
  const departments = Object.entries(config.escalation?.departments ?? {})
  const main = config.escalation?.number ?? config.escalation_number
  const allowed = [...(main === undefined ? [] : [main]), ...departments.map(([, number]) => number)]
  if (requested !== undefined) return allowed.includes(requested) ? Option.some(requested) : Option.none()
  const byDepartment = department === undefined
    ? undefined
    : departments.find(([name]) => name.toLowerCase() === department.toLowerCase())?.[1]
  return Option.fromNullable(byDepartment ?? main)
}

export interface EscalationRequest {
  readonly tenantId: string
  readonly config: TenantConfig
  readonly callSid: string
  /** The live call's stream, named in the `voice.call.escalated` event. */
  readonly streamSid?: string | null
  readonly reason: string
  readonly department: string | undefined
  readonly targetNumber: string | undefined
}

/** Transfers a live call to a person: new TwiML (`<Dial>`) on the call through Twilio's REST API. */
export class EscalateCall extends Effect.Service<EscalateCall>()("EscalateCall", {
  effect: Effect.gen(function*() {
    const platform = yield* AppConfig
    const twilio = yield* TwilioClient
    const callLogs = yield* CallLogWrites
    const limits = yield* Limits

    const transfer = Effect.fn("EscalateCall.transfer")(function*(request: EscalationRequest) {
      const target = escalationTarget(request.config, request.department, request.targetNumber)
      if (Option.isNone(target)) {
        return yield* Effect.fail(
          request.targetNumber === undefined
            ? "no escalation number is configured for this tenant"
            : `${request.targetNumber} is not a configured escalation number`
        )
      }
      // The transfer leg is dialled and billed: the tenant's destination policy applies (docs/limits.md).
      yield* limits.destination(request, target.value, request.callSid).pipe(
        Effect.mapError((refusal) => `The transfer was refused: ${refusal.message}`)
      )
      const credentials = twilioCredentials(request.config, platform)
      if (Option.isNone(credentials)) return yield* Effect.fail("Twilio is not configured for this tenant")
      yield* twilio.updateCall(credentials.value, request.callSid, {
        twiml: dial(request.config.escalation?.announcement ?? DEFAULT_ANNOUNCEMENT, target.value)
      }).pipe(Effect.mapError((error) => `Twilio did not transfer the call: ${error.message}`))
      // The transfer happened; a failed bookkeeping write must not undo that answer.
      const at = new Date(yield* Clock.currentTimeMillis)
      yield* callLogs.markEscalated({
        tenantId: request.tenantId,
        callSid: request.callSid,
        streamSid: request.streamSid ?? null,
        target: target.value,
        reason: request.reason,
        initiatedBy: "ai",
        at
      }).pipe(
        Effect.catchAll((error) => Effect.logWarning("could not mark the call escalated", error.message))
      )
      return target.value
    })

    return { transfer } as const
  }),
  dependencies: [TwilioClient.Default, CallLogWrites.Default]
}) {}
