import { Clock, Effect, Option } from "effect"
import { CallLogWrites } from "../CallLogs/Writes.js"
import { Limits } from "../Limits/Limits.js"
import { defaultFromNumber, isE164, twilioCredentials } from "../Twilio/Account.js"
import { TwilioClient, type TwilioCredentials } from "../Twilio/Client.js"
import type { TwilioFailure } from "../Twilio/Errors.js"
import { AppConfig } from "../Config.js"
import { Ids } from "../Ids.js"
import type { TenantConfig } from "../Tenants/Config.js"
import { TransferFailed } from "../Transfers/Errors.js"
import { type NewTransfer, TransfersRepo } from "../Transfers/Repo.js"
import { dialWithFallback, joinConference } from "../Transfers/Twiml.js"
import { TRANSFER_TIMEOUT_SECONDS, transferUrl } from "../Transfers/Urls.js"

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
  /** cold (default): the caller is dialled through to the person; warm: the person hears a summary first, in a conference. */
  readonly mode?: "warm" | "cold"
  readonly initiatedBy?: "ai" | "supervisor"
  /** What the person hears before a warm transfer joins them (the call so far). */
  readonly summary?: string
  /** The tenant itself asked (its API): any number it names, within its destination policy. */
  readonly targetTrusted?: boolean
}

export interface BargeRequest {
  readonly tenantId: string
  readonly config: TenantConfig
  readonly callSid: string
  readonly streamSid: string | null
  /** The supervisor's phone (E.164), or a `client:` / `sip:` address. */
  readonly target: string
  readonly supervisor: string
}

export interface BargeResult {
  readonly conference: string
  readonly participantCallSid: string
  readonly target: string
}

const twilioFailed = (what: string) => (error: TwilioFailure) =>
  new TransferFailed({
    // Twilio refusing the number or the call (not live any more) is the request's fault.
    status: error._tag === "TwilioRejected" && error.httpStatus === 400 || error._tag === "TwilioRejected" && error.httpStatus === 404
      ? 400
      : 503,
    message: `Twilio did not ${what}: ${error.message}`
  })

const unavailable = () => new TransferFailed({ status: 503, message: "the transfer could not be recorded; try again shortly" })

/**
 * Transfers a live call to a person through Twilio's REST API, never dropping the caller:
 * cold, a `<Dial>` whose unanswered end brings the caller back to the agent
 * (Transfers/Callbacks.ts); warm, the person is called first, hears a summary and meets the
 * caller in a conference; barge, a supervisor joins the caller in a conference at once.
 * The call becomes an escalation (log + `voice.call.escalated`) when the person answers.
 */
export class EscalateCall extends Effect.Service<EscalateCall>()("EscalateCall", {
  effect: Effect.gen(function*() {
    const platform = yield* AppConfig
    const twilio = yield* TwilioClient
    const callLogs = yield* CallLogWrites
    const limits = yield* Limits
    const repo = yield* TransfersRepo
    const ids = yield* Ids

    const credentialsOf = (config: TenantConfig) =>
      Option.match(twilioCredentials(config, platform), {
        onNone: () => Effect.fail(new TransferFailed({ status: 400, message: "Twilio is not configured for this tenant" })),
        onSome: (credentials) => Effect.succeed<TwilioCredentials>(credentials)
      })

    /** The number the person sees: ours on this call (the called number inbound, the caller id outbound). */
    const callerIdOf = (tenantId: string, config: TenantConfig, callSid: string) =>
      Effect.map(Effect.orElseSucceed(repo.callOrigin(tenantId, callSid), () => undefined), (origin) => {
        const ours = origin === undefined ? null : origin.direction === "inbound" ? origin.to_number : origin.from_number
        return ours ?? Option.getOrNull(defaultFromNumber(config, platform))
      })

    const record = (transfer: NewTransfer) =>
      repo.insert(transfer).pipe(
        Effect.catchTag("InvalidInput", (error) => Effect.fail(new TransferFailed({ status: 400, message: error.message }))),
        Effect.mapError((error) => error._tag === "TransferFailed" ? error : unavailable())
      )

    /** Twilio refused: the attempt is kept as unanswered so it never reads as pending. */
    const abandoned = (tenantId: string, id: string) =>
      Effect.ignore(repo.settle(tenantId, id, "unanswered", "not-sent"))

    const checkTarget = (request: EscalationRequest) => {
      if (request.targetTrusted === true && request.targetNumber !== undefined) {
        return isE164(request.targetNumber)
          ? Effect.succeed(request.targetNumber)
          : Effect.fail(new TransferFailed({ status: 400, message: `target_number must be an E.164 phone number, e.g. +15551230000` }))
      }
      const target = escalationTarget(request.config, request.department, request.targetNumber)
      return Option.match(target, {
        onNone: () =>
          Effect.fail(new TransferFailed({
            status: 400,
            message: request.targetNumber === undefined
              ? "no escalation number is configured for this tenant"
              : `${request.targetNumber} is not a configured escalation number`
          })),
        onSome: Effect.succeed
      })
    }

    /** Fails with `TransferFailed` and its status: 400 for a request that cannot be made, 503 when Twilio or the database failed. */
    const transfer = Effect.fn("EscalateCall.transfer")(function*(request: EscalationRequest) {
      const target = yield* checkTarget(request)
      // The transfer leg is dialled and billed: the tenant's destination policy applies (docs/limits.md).
      yield* limits.destination(request, target, request.callSid).pipe(
        Effect.mapError((refusal) => new TransferFailed({ status: 400, message: `The transfer was refused: ${refusal.message}` }))
      )
      const credentials = yield* credentialsOf(request.config)
      const mode = request.mode ?? "cold"
      const id = yield* ids.uuid
      const conferenceName = mode === "warm" ? `transfer-${id}` : null
      yield* record({
        id,
        tenantId: request.tenantId,
        callSid: request.callSid,
        streamSid: request.streamSid ?? null,
        mode,
        target,
        reason: request.reason,
        initiatedBy: request.initiatedBy ?? "ai",
        conferenceName,
        summary: mode === "warm" ? request.summary ?? `A caller is being transferred to you. Reason: ${request.reason}.` : null
      })
      const callerId = yield* callerIdOf(request.tenantId, request.config, request.callSid)
      const url = (step: "result" | "answered") => transferUrl(platform.publicBaseUrl, step, request.tenantId, id)
      if (mode === "cold") {
        yield* twilio.updateCall(credentials, request.callSid, {
          twiml: dialWithFallback({
            announcement: request.config.escalation?.announcement ?? DEFAULT_ANNOUNCEMENT,
            number: target,
            action: url("result"),
            answeredUrl: url("answered"),
            timeoutSeconds: TRANSFER_TIMEOUT_SECONDS,
            callerId
          })
        }).pipe(Effect.mapError(twilioFailed("transfer the call")), Effect.tapError(() => abandoned(request.tenantId, id)))
      } else {
        // The person is called first; the caller stays with the agent until they answer (Callbacks.ts).
        if (callerId === null) {
          yield* abandoned(request.tenantId, id)
          return yield* new TransferFailed({ status: 400, message: "no caller id to call the person from: set twilio.from_number" })
        }
        yield* twilio.createCall(credentials, {
          to: target,
          from: callerId,
          url: url("answered"),
          method: "POST",
          timeout: TRANSFER_TIMEOUT_SECONDS,
          statusCallback: url("result"),
          statusCallbackMethod: "POST",
          statusCallbackEvent: ["completed"]
        }).pipe(Effect.mapError(twilioFailed("call the person")), Effect.tapError(() => abandoned(request.tenantId, id)))
      }
      return target
    })

    const barge = Effect.fn("EscalateCall.barge")(function*(request: BargeRequest): Effect.fn.Return<BargeResult, TransferFailed> {
      const { target } = request
      const phone = isE164(target)
      if (!phone && !/^(client|sip):[^\s<>"]{1,200}$/.test(target)) {
        return yield* new TransferFailed({ status: 400, message: "target must be an E.164 phone number or a client:/sip: address" })
      }
      if (phone) {
        yield* limits.destination(request, target, request.callSid).pipe(
          Effect.mapError((refusal) => new TransferFailed({ status: 400, message: `The barge was refused: ${refusal.message}` }))
        )
      }
      const credentials = yield* credentialsOf(request.config)
      const callerId = yield* callerIdOf(request.tenantId, request.config, request.callSid)
      if (callerId === null) {
        return yield* new TransferFailed({ status: 400, message: "no caller id to call the supervisor from: set twilio.from_number" })
      }
      const id = yield* ids.uuid
      const conference = `barge-${id}`
      yield* record({
        id,
        tenantId: request.tenantId,
        callSid: request.callSid,
        streamSid: request.streamSid,
        mode: "barge",
        target,
        reason: `${request.supervisor} joined the call`,
        initiatedBy: "supervisor",
        conferenceName: conference,
        summary: null
      })
      // The supervisor is dialled into the room first, then the caller moved there: the media
      // stream ends with the replaced TwiML, so the agent stops speaking and listening.
      const participant = yield* twilio.addParticipant(credentials, conference, {
        from: callerId,
        to: target,
        label: "supervisor",
        beep: "false",
        startConferenceOnEnter: true,
        endConferenceOnExit: false,
        timeout: TRANSFER_TIMEOUT_SECONDS
      }).pipe(Effect.mapError(twilioFailed("dial the supervisor")), Effect.tapError(() => abandoned(request.tenantId, id)))
      yield* twilio.updateCall(credentials, request.callSid, { twiml: joinConference(conference, { startOnEnter: true }) }).pipe(
        Effect.mapError(twilioFailed("move the call into the conference")),
        Effect.tapError(() =>
          Effect.zipRight(
            abandoned(request.tenantId, id),
            Effect.ignore(twilio.removeParticipant(credentials, conference, participant.callSid))
          )
        )
      )
      yield* escalated(request.tenantId, id)
      return { conference, participantCallSid: participant.callSid, target }
    })

    /**
     * The transfer `id` was answered: the call log says escalated and `voice.call.escalated`
     * is enqueued, once (the pending -> answered move is taken by one request only).
     */
    const escalated = (tenantId: string, id: string, dialCallStatus: string | null = null) =>
      Effect.gen(function*() {
        const row = yield* repo.settle(tenantId, id, "answered", dialCallStatus)
        if (row === undefined) return false
        // The person is on the line; a failed bookkeeping write must not undo that.
        yield* callLogs.markEscalated({
          tenantId,
          callSid: row.call_sid,
          streamSid: row.stream_sid,
          target: row.target,
          reason: row.reason,
          initiatedBy: row.initiated_by,
          at: new Date(yield* Clock.currentTimeMillis)
        })
        return true
      }).pipe(
        Effect.catchAll((error) =>
          Effect.as(Effect.logWarning("could not mark the call escalated", error._tag), false)
        )
      )

    return { transfer, barge, escalated } as const
  }),
  dependencies: [TwilioClient.Default, CallLogWrites.Default, TransfersRepo.Default]
}) {}
