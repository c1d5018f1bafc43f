import { Clock, Effect } from "effect"
import type { CallRecords } from "../CallLogs/CallRecords.js"
import { WebhookUnauthorized, WebhookUnavailable } from "./Api.js"
import type { TenantResolution } from "./TenantResolution.js"
import { badRequest, type CallKind, required, text, type VoiceWebhook, webhookCall } from "./VoiceWebhook.js"

const ANSWERED_BY = ["human", "machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax", "unknown"]

/** Twilio's status callback: merged into the call log whatever order it arrives in. */
export const makeStatusCallback = (resolution: TenantResolution, callRecords: CallRecords) =>
  Effect.fn("VoiceWebhooks.status")(function*(hook: VoiceWebhook) {
    const callSid = yield* required(hook.params, "CallSid")
    const callStatus = yield* required(hook.params, "CallStatus")
    const kind: CallKind = text(hook.params, "Direction") === "inbound" ? "inbound" : "outbound"
    const unavailable = () => new WebhookUnavailable({ message: "Service unavailable; try again shortly" })
    const resolved = yield* resolution.resolve(webhookCall(hook, kind, false)).pipe(Effect.mapError(unavailable))
    if (resolved._tag === "BadSignature") return yield* new WebhookUnauthorized({ message: "Invalid Twilio signature" })
    if (resolved._tag === "Unknown") {
      yield* Effect.logWarning("status callback for an unknown number").pipe(Effect.annotateLogs("call_sid", callSid))
      return false
    }
    const duration = Number(text(hook.params, "CallDuration") ?? Number.NaN)
    const answeredBy = text(hook.params, "AnsweredBy")
    yield* callRecords.recordStatus({
      tenantId: resolved.tenant.tenantId,
      callSid,
      direction: kind,
      from: text(hook.params, "From") ?? null,
      to: text(hook.params, "To") ?? null,
      twilioStatus: callStatus.toLowerCase(),
      durationSeconds: Number.isInteger(duration) && duration >= 0 ? duration : null,
      answeredBy: answeredBy === undefined ? null : ANSWERED_BY.includes(answeredBy) ? answeredBy : "unknown",
      recordingUrl: text(hook.params, "RecordingUrl") ?? null,
      at: new Date(yield* Clock.currentTimeMillis)
    }).pipe(Effect.catchTags({ DatabaseUnavailable: () => Effect.fail(unavailable()), InvalidInput: badRequest }))
    return true
  })
