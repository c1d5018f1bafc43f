import { Effect } from "effect"
import { StreamTokens } from "../Auth/StreamTokens.js"
import { AppConfig } from "../Config.js"
import { Inject, Say } from "../LiveCalls/Domain.js"
import { CallRouting } from "../LiveCalls/Routing.js"
import type { TenantConfig } from "../Tenants/Config.js"
import { EscalateCall } from "../Tools/EscalateCall.js"
import { twilioCredentials } from "../Twilio/Account.js"
import { TwilioClient } from "../Twilio/Client.js"
import { connectStream, mediaStreamUrl, sayAndHangUp } from "../Twilio/Twiml.js"
import { type TransferRow, TransfersRepo } from "./Repo.js"
import { emptyResponse, hangUp, joinConference, summaryThenRedirect } from "./Twiml.js"
import { transferUrl, UNANSWERED } from "./Urls.js"
import { UNANSWERED_LINE, unansweredInstruction } from "./Texts.js"

type Params = Readonly<Record<string, string>>

const isUnanswered = (status: string | undefined): status is string =>
  status !== undefined && (UNANSWERED as ReadonlyArray<string>).includes(status)

/**
 * Twilio's callbacks of a transfer (signature already checked, Routes.ts): the end of a cold
 * `<Dial>` (unanswered: the caller goes back to the agent on a new stream of the same call),
 * the person picking up (the call becomes an escalation), the warm transfer's join, and the
 * person's leg ending unanswered (the caller is still with the agent, who is told).
 */
export class TransferCallbacks extends Effect.Service<TransferCallbacks>()("TransferCallbacks", {
  effect: Effect.gen(function*() {
    const platform = yield* AppConfig
    const repo = yield* TransfersRepo
    const escalation = yield* EscalateCall
    const tokens = yield* StreamTokens
    const routing = yield* CallRouting
    const twilio = yield* TwilioClient
    const streamUrl = mediaStreamUrl(platform.publicBaseUrl)

    /** A new `<Connect><Stream>` for the same call: fresh single-use token, same tenant and agent version. */
    const backToAgent = (transfer: TransferRow, status: string, params: Params) =>
      Effect.gen(function*() {
        const origin = yield* repo.callOrigin(transfer.tenant_id, transfer.call_sid)
        const direction = origin?.direction ?? (params.Direction === "inbound" ? "inbound" : "outbound")
        const from = origin?.from_number ?? params.From ?? null
        const to = origin?.to_number ?? params.To ?? null
        const agentVersionId = origin?.agent_version_id ?? null
        const token = yield* tokens.mint({ tenantId: transfer.tenant_id, callSid: transfer.call_sid, agentVersionId, direction, from, to })
        return connectStream(streamUrl, [
          ["stream_token", token],
          ["tenant_id", transfer.tenant_id],
          ["agent_version_id", agentVersionId],
          ["direction", direction],
          ["caller", direction === "inbound" ? from : to],
          ["call_sid", transfer.call_sid],
          ["greeting", UNANSWERED_LINE],
          ["transfer_result", status]
        ])
      })

    /**
     * The caller never left the agent (warm): tell it, and have it say so. Twilio's callback
     * lands on any replica; the command travels to the one holding the call (CallRouting).
     */
    const tellAgent = (transfer: TransferRow, status: string) => {
      if (transfer.stream_sid === null) return Effect.void
      const command = (text: Inject | Say) =>
        routing.send(transfer.tenant_id, transfer.stream_sid!, text).pipe(
          Effect.tap((result) =>
            result._tag === "Refused" ? Effect.logWarning("the call refused the unanswered-transfer notice", result.reason) : Effect.void
          )
        )
      return command(new Inject({ text: unansweredInstruction(status) })).pipe(
        Effect.zipRight(command(new Say({ text: UNANSWERED_LINE }))),
        Effect.catchAll((error) => Effect.logWarning("could not tell the agent the transfer was unanswered", error._tag))
      )
    }

    /** `<Dial action>` (cold) or the person's leg status callback (warm). */
    const result = Effect.fn("TransferCallbacks.result")(function*(transfer: TransferRow, params: Params) {
      const dialStatus = params.DialCallStatus ?? params.CallStatus
      if (transfer.mode === "cold") {
        if (isUnanswered(dialStatus)) {
          yield* repo.settle(transfer.tenant_id, transfer.id, "unanswered", dialStatus)
          yield* Effect.logInfo("transfer unanswered: the caller goes back to the agent").pipe(
            Effect.annotateLogs({ call_sid: transfer.call_sid, dial_call_status: dialStatus })
          )
          return yield* backToAgent(transfer, dialStatus, params)
        }
        // Answered (the person's leg ran our answered URL, or we learn it only now) and over.
        yield* escalation.escalated(transfer.tenant_id, transfer.id, dialStatus ?? null)
        yield* Effect.ignore(repo.settle(transfer.tenant_id, transfer.id, "completed", dialStatus ?? null))
        return hangUp()
      }
      if (isUnanswered(dialStatus)) {
        const moved = yield* repo.settle(transfer.tenant_id, transfer.id, "unanswered", dialStatus)
        if (moved !== undefined) yield* tellAgent(moved, dialStatus)
      } else {
        yield* Effect.ignore(repo.settle(transfer.tenant_id, transfer.id, "completed", dialStatus ?? null))
      }
      return emptyResponse()
    })

    /** The person picked up: cold, that is the escalation; warm, they hear the summary first. */
    const answered = Effect.fn("TransferCallbacks.answered")(function*(transfer: TransferRow) {
      if (transfer.mode === "warm") {
        const join = transferUrl(platform.publicBaseUrl, "join", transfer.tenant_id, transfer.id)
        return summaryThenRedirect(transfer.summary ?? "A caller is being transferred to you.", join)
      }
      yield* escalation.escalated(transfer.tenant_id, transfer.id, "answered")
      return emptyResponse()
    })

    /** Warm: the person heard the summary; the caller is moved into the room and the agent leaves. */
    const join = Effect.fn("TransferCallbacks.join")(function*(transfer: TransferRow, config: TenantConfig) {
      const room = transfer.conference_name
      const credentials = twilioCredentials(config, platform)
      if (transfer.mode !== "warm" || room === null || credentials._tag === "None") return hangUp()
      if (transfer.status !== "pending") return joinConference(room, { startOnEnter: true })
      const moved = yield* twilio.updateCall(credentials.value, transfer.call_sid, {
        twiml: joinConference(room, { startOnEnter: true })
      }).pipe(Effect.either)
      if (moved._tag === "Left") {
        yield* Effect.ignore(repo.settle(transfer.tenant_id, transfer.id, "unanswered", "caller-gone"))
        yield* Effect.logWarning("warm transfer: the caller could not be moved", moved.left.message)
        return sayAndHangUp("Sorry, the caller is no longer on the line. Goodbye.")
      }
      yield* escalation.escalated(transfer.tenant_id, transfer.id, "answered")
      return joinConference(room, { startOnEnter: true })
    })

    return { result, answered, join } as const
  }),
  dependencies: [EscalateCall.Default, TransfersRepo.Default, TwilioClient.Default]
}) {}
