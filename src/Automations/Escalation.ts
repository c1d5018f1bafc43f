import { Effect } from "effect"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"
import type { TenantConfig } from "../Tenants/Config.js"
import { EscalateCall } from "../Tools/EscalateCall.js"
import { TransferFailed } from "../Transfers/Errors.js"
import { TransfersRepo } from "../Transfers/Repo.js"

/** The automation payload fields an escalation reads (the spec's AutomationPayload, open). */
export interface EscalationPayload {
  readonly call_sid?: string | null
  readonly to?: string | null
  readonly reason?: string | null
  readonly [key: string]: unknown
}

const bad = (message: string) => new TransferFailed({ status: 400, message })

/**
 * `escalate_call_to_human` run by the tenant's own workflow: the call named by `call_sid`
 * (one of the tenant's calls) goes to `target_number` (or `to`): cold, or warm "with
 * bridge" (the person is called first and the caller stays with the agent until they join).
 */
export class EscalationAutomations extends Effect.Service<EscalationAutomations>()("EscalationAutomations", {
  effect: Effect.gen(function*() {
    const escalation = yield* EscalateCall
    const repo = yield* TransfersRepo
    const liveCalls = yield* LiveCalls

    const run = Effect.fn("EscalationAutomations.run")(
      function*(tenantId: string, config: TenantConfig, payload: EscalationPayload, mode: "cold" | "warm") {
        const callSid = payload.call_sid ?? undefined
        if (callSid === undefined) return yield* bad("Function 'escalate_call_to_human' failed: missing required field 'call_sid'")
        const requested = payload.target_number ?? payload.to ?? undefined
        if (requested === undefined) {
          return yield* bad("Function 'escalate_call_to_human' failed: missing required field 'target_number'")
        }
        if (typeof requested !== "string") return yield* bad("target_number must be a string (an E.164 phone number)")
        const origin = yield* repo.callOrigin(tenantId, callSid).pipe(Effect.mapError(() => unavailable()))
        if (origin === undefined) return yield* bad(`unknown call: ${callSid} is not a call of this tenant`)
        const live = yield* liveCalls.list(tenantId).pipe(Effect.mapError(() => unavailable()))
        const streamSid = live.find((call) => call.call_sid === callSid)?.stream_sid ?? null
        const reason = payload.reason ?? "escalated by automation"
        const target = yield* escalation.transfer({
          tenantId,
          config,
          callSid,
          streamSid,
          reason,
          department: undefined,
          targetNumber: requested,
          mode,
          initiatedBy: "ai",
          targetTrusted: true
        })
        return { call_sid: callSid, stream_sid: streamSid, target_number: target, mode, status: "transferring", reason }
      }
    )

    return { run } as const
  }),
  dependencies: [EscalateCall.Default, TransfersRepo.Default]
}) {}

const unavailable = () => new TransferFailed({ status: 503, message: "Service unavailable; try again shortly" })
