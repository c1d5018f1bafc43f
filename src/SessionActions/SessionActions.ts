import { Cause, Effect, Exit, Option } from "effect"
import { type CommandResult, Depart, Inject, Listen } from "../LiveCalls/Domain.js"
import { LiveCallGone, LiveCallNotFound } from "../LiveCalls/Errors.js"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"
import { CallRouting } from "../LiveCalls/Routing.js"
import { SupervisorActions } from "../SupervisorActions/SupervisorActions.js"
import type { TenantConfig } from "../Tenants/Config.js"
import { Limits } from "../Limits/Limits.js"
import { EscalateCall } from "../Tools/EscalateCall.js"
import { isE164 } from "../Twilio/Account.js"
import { ActionRefused, ActionUnavailable, InvalidAction } from "./Errors.js"
import type { SessionActionBody } from "./Schemas.js"

export const SESSION_ACTIONS = ["monitor", "whisper", "barge", "escalate", "end"] as const
export type SessionAction = typeof SESSION_ACTIONS[number]

const isSessionAction = (action: string): action is SessionAction => (SESSION_ACTIONS as ReadonlyArray<string>).includes(action)

/** How a whisper reaches the model: a system message the caller never hears, for its next turn. */
export const whisperText = (note: string) =>
  `A supervisor sent you a private note; the caller cannot hear it. Take it into account from your next reply on, ` +
  `without mentioning the note: ${note}`

/** What the agent says before a supervisor's `end` hangs the call up. */
export const SUPERVISOR_GOODBYE = "I need to end our call here. Thank you for calling, goodbye."

export interface ActingTenant {
  readonly tenantId: string
  readonly config: TenantConfig
}

/**
 * Supervisor actions on a tenant's live call, from any replica: `whisper`, `end` and a
 * `monitor` with a target travel to the call (CallRouting; the call's replica dials the
 * listen-only leg so its stream reaches that replica), `escalate` and `barge` act through
 * the ledger and Twilio. Every
 * action that found its call is written to the supervisor action log with its outcome.
 */
export class SessionActions extends Effect.Service<SessionActions>()("SessionActions", {
  effect: Effect.gen(function*() {
    const liveCalls = yield* LiveCalls
    const routing = yield* CallRouting
    const log = yield* SupervisorActions
    const escalation = yield* EscalateCall
    const limits = yield* Limits

    const commandOutcome = (result: CommandResult) =>
      result._tag === "Applied"
        ? Effect.void
        : result._tag === "Unavailable"
        ? Effect.fail(new ActionUnavailable({ message: result.reason.charAt(0).toUpperCase() + result.reason.slice(1) }))
        : Effect.fail(new ActionRefused({ message: `The call refused: ${result.reason}` }))

    const perform = Effect.fn("SessionActions.perform")(
      function*(tenant: ActingTenant, streamSid: string, action: string, body: SessionActionBody) {
        if (!isSessionAction(action)) {
          return yield* new InvalidAction({ message: `Unknown action "${action}": use one of ${SESSION_ACTIONS.join(", ")}` })
        }
        const note = body.note?.trim() ?? ""
        if (action === "whisper" && note === "") return yield* new InvalidAction({ message: "note is required for whisper" })
        const supervisor = body.supervisor ?? "api"
        const reason = body.reason ?? null
        const target = body.target ?? null
        // What whisper and end send into the call, sized before anything is done or logged.
        const inject = new Inject({ text: whisperText(note) })
        const depart = new Depart({ text: SUPERVISOR_GOODBYE, reason: reason ?? `ended by supervisor ${supervisor}` })
        if (action === "whisper") yield* routing.fits(tenant.tenantId, streamSid, inject)
        if (action === "end") yield* routing.fits(tenant.tenantId, streamSid, depart)
        const located = yield* liveCalls.locate(tenant.tenantId, streamSid)
        if (Option.isNone(located)) return yield* new LiveCallNotFound({ streamSid })
        const call = located.value
        if (call.stale) return yield* new LiveCallGone({ streamSid })

        const act = Effect.gen(function*() {
          switch (action) {
            case "whisper":
              yield* commandOutcome(yield* routing.deliver(tenant.tenantId, streamSid, call, inject))
              return "Whisper delivered"
            case "end":
              yield* commandOutcome(yield* routing.deliver(tenant.tenantId, streamSid, call, depart))
              return "Ending the call after the agent's goodbye"
            case "monitor": {
              if (target === null) {
                yield* liveCalls.markMonitored(tenant.tenantId, streamSid, supervisor)
                return "Monitoring"
              }
              // A listen-only leg: the replica holding the call dials `target` and streams the call to it (Monitoring/).
              const phone = isE164(target)
              if (!phone && !/^(client|sip):[^\s<>"]{1,200}$/.test(target)) {
                return yield* new InvalidAction({ message: "target must be an E.164 phone number or a client:/sip: address" })
              }
              if (phone) {
                yield* limits.destination(tenant, target, call.call_sid ?? streamSid).pipe(
                  Effect.mapError((refusal) => new InvalidAction({ message: `The monitor leg was refused: ${refusal.message}` }))
                )
              }
              yield* commandOutcome(yield* routing.deliver(tenant.tenantId, streamSid, call, new Listen({ target, supervisor })))
              yield* liveCalls.markMonitored(tenant.tenantId, streamSid, supervisor)
              return `Monitoring: a listen-only audio leg was dialled to ${target}`
            }
            case "escalate": {
              if (call.call_sid === null) return yield* new ActionRefused({ message: "The call has no Twilio call SID to transfer" })
              // The spec's body has no mode: the tenant chooses (escalation.supervisor_mode, cold unless "warm").
              const mode = tenant.config.escalation?.supervisor_mode ?? "cold"
              const to = yield* escalation.transfer({
                tenantId: tenant.tenantId,
                config: tenant.config,
                callSid: call.call_sid,
                streamSid,
                reason: reason ?? `escalated by supervisor ${supervisor}`,
                department: undefined,
                targetNumber: target ?? undefined,
                mode,
                initiatedBy: "supervisor"
              }).pipe(Effect.mapError((failure) =>
                failure.status === 503 ? new ActionUnavailable({ message: failure.message }) : new ActionRefused({ message: failure.message })
              ))
              // Warm: the caller stays with the agent until the person answers (or is told nobody did).
              if (mode === "warm") return `Transferring to ${to} (warm: they hear a summary first, then the caller is joined)`
              yield* liveCalls.markEscalated(tenant.tenantId, streamSid, to)
              return `Escalated to ${to}`
            }
            case "barge": {
              if (target === null) return yield* new InvalidAction({ message: "barge needs a target: the number of the person joining" })
              if (call.call_sid === null) return yield* new ActionRefused({ message: "The call has no Twilio call SID to move into a conference" })
              const joined = yield* escalation.barge({
                tenantId: tenant.tenantId,
                config: tenant.config,
                callSid: call.call_sid,
                streamSid,
                target,
                supervisor
              }).pipe(Effect.mapError((failure) =>
                failure.status === 503 ? new ActionUnavailable({ message: failure.message }) : new InvalidAction({ message: failure.message })
              ))
              yield* liveCalls.markEscalated(tenant.tenantId, streamSid, joined.target)
              return `${joined.target} joined the call in conference ${joined.conference}`
            }
          }
        })

        const exit = yield* Effect.exit(act)
        yield* log.record({
          tenantId: tenant.tenantId,
          streamSid,
          callSid: call.call_sid,
          action,
          supervisor,
          target,
          reason,
          note: body.note ?? null,
          metadata: Exit.match(exit, {
            onSuccess: (message) => ({ outcome: "applied", message }),
            onFailure: (cause) => ({
              outcome: "failed",
              message: Option.match(Cause.failureOption(cause), { onNone: () => "interrupted", onSome: (error) => error.message })
            })
          })
        }).pipe(Effect.catchAll((error) => Effect.logWarning("could not write the supervisor action log", error.message)))
        return yield* exit
      }
    )

    return { perform } as const
  }),
  dependencies: [EscalateCall.Default]
}) {}
