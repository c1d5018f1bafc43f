import { Clock, Effect, Option } from "effect"
import type { CreateCallOptions } from "../Twilio/Options.js"
import { AppConfig } from "../Config.js"
import { CallLogWrites } from "../CallLogs/Writes.js"
import type { TenantConfig } from "../Tenants/Config.js"
import { twilioCredentials } from "../Twilio/Account.js"
import { TwilioClient } from "../Twilio/Client.js"
import { TenantResolution } from "../Twilio/TenantResolution.js"
import { escapeXml } from "../Twilio/Twiml.js"
import { Depart, Inject } from "../LiveCalls/Domain.js"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"
import { CallRouting } from "../LiveCalls/Routing.js"

/** Where Twilio posts its asynchronous AMD result and finished recordings (signed like any webhook). */
export const AMD_CALLBACK_PATH = "/api/v1/outbound-call/amd"
export const RECORDING_CALLBACK_PATH = "/api/v1/recording-status"

const MACHINE_END = new Set(["machine_end_beep", "machine_end_silence", "machine_end_other"])
const ANSWERED_BY = new Set(["human", "machine_start", ...MACHINE_END, "fax", "unknown"])

/**
 * The dial options a tenant's `outbound` config asks for: asynchronous answering-machine
 * detection that waits for the end of the greeting (so a message starts after the beep),
 * and recording with a completion callback.
 */
export const machineAndRecordingOptions = (
  config: TenantConfig,
  callbackUrl: (path: string) => string
): Partial<CreateCallOptions> => ({
  ...(config.outbound?.on_machine === undefined ? {} : {
    machineDetection: "DetectMessageEnd",
    asyncAmd: "true",
    asyncAmdStatusCallback: callbackUrl(AMD_CALLBACK_PATH),
    asyncAmdStatusCallbackMethod: "POST"
  }),
  ...(config.outbound?.record_calls === true
    ? {
      record: true,
      recordingStatusCallback: callbackUrl(RECORDING_CALLBACK_PATH),
      recordingStatusCallbackMethod: "POST",
      recordingStatusCallbackEvent: ["completed"]
    }
    : {})
})

/** TwiML that leaves the tenant's message on the machine, then hangs up. */
export const voicemailTwiml = (message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><Response><Say>${escapeXml(message)}</Say><Hangup/></Response>`

export interface SignedCallback {
  readonly url: string
  readonly params: Readonly<Record<string, string>>
  readonly signature: string | undefined
  readonly tenant: string | undefined
}

export type CallbackOutcome = "ok" | "bad_request" | "unauthorized" | "unknown_tenant"

/** What the agent is told when its call reached a machine (it then speaks the message, and the call ends). */
const VOICEMAIL_NOTICE =
  "The call reached an answering machine and its beep has sounded. Do not reply to the machine: you are leaving the message now, then the call ends."

/**
 * Twilio's AMD and recording callbacks for calls make-call placed. A machine at the end of
 * its greeting gets the tenant's voicemail message, spoken by the agent (a command routed to
 * the replica holding the call: the agent is told, says the message, and the call is hung up
 * once it has played); when the call has no live agent (its stream never started, or it has
 * just ended) Twilio says it (`<Say>` then `<Hangup/>`). Or a hang-up, as the tenant's
 * `outbound.on_machine` says.
 */
export class MachineAnswers extends Effect.Service<MachineAnswers>()("MachineAnswers", {
  effect: Effect.gen(function*() {
    const platform = yield* AppConfig
    const resolution = yield* TenantResolution
    const twilio = yield* TwilioClient
    const writes = yield* CallLogWrites
    const liveCalls = yield* LiveCalls
    const routing = yield* CallRouting

    /** True when the call's agent took the message (told, then `Depart`): it speaks it and the call ends. */
    const agentLeaves = (tenantId: string, callSid: string, message: string) =>
      liveCalls.streamOfCall(tenantId, callSid).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.succeed(false),
          onSome: (streamSid) =>
            // The notice is refused while no agent has joined; then Twilio speaks instead.
            Effect.flatMap(routing.send(tenantId, streamSid, new Inject({ text: VOICEMAIL_NOTICE })), (told) =>
              told._tag !== "Applied"
                ? Effect.succeed(false)
                : Effect.map(
                  routing.send(tenantId, streamSid, new Depart({ text: message, reason: "voicemail left" })),
                  (left) => left._tag === "Applied"
                ))
        })),
        Effect.catchAll((error) => Effect.as(Effect.logWarning("the agent could not leave the voicemail; Twilio says it", String(error)), false))
      )

    const resolve = (hook: SignedCallback) =>
      resolution.resolve({
        url: hook.url,
        params: hook.params,
        signature: hook.signature,
        explicitTenant: hook.tenant,
        accountSid: hook.params.AccountSid,
        number: undefined,
        direction: "outbound"
      })

    /** Merged into the call log like a status callback (never lowering the call's status). */
    const note = (tenantId: string, callSid: string, answeredBy: string | null, recordingUrl: string | null) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        writes.statusReported({
          tenantId,
          callSid,
          direction: "outbound",
          from: null,
          to: null,
          twilioStatus: "in-progress",
          durationSeconds: null,
          answeredBy,
          recordingUrl,
          at: new Date(now)
        }))

    const amd = Effect.fn("MachineAnswers.amd")(function*(hook: SignedCallback) {
      const callSid = hook.params.CallSid
      const answeredBy = hook.params.AnsweredBy
      if (callSid === undefined || answeredBy === undefined) return "bad_request" as CallbackOutcome
      const resolved = yield* resolve(hook)
      if (resolved._tag === "BadSignature") return "unauthorized" as CallbackOutcome
      if (resolved._tag === "Unknown") return "unknown_tenant" as CallbackOutcome
      const tenant = resolved.tenant
      yield* note(tenant.tenantId, callSid, ANSWERED_BY.has(answeredBy) ? answeredBy : "unknown", null)
      const mode = tenant.config.outbound?.on_machine
      if (!MACHINE_END.has(answeredBy) || mode === undefined) return "ok" as CallbackOutcome
      const credentials = twilioCredentials(tenant.config, platform)
      if (Option.isNone(credentials)) return "ok" as CallbackOutcome
      const message = tenant.config.outbound?.voicemail_message
      if (mode === "voicemail" && message !== undefined && (yield* agentLeaves(tenant.tenantId, callSid, message))) {
        yield* Effect.logInfo("machine answered: the agent is leaving the voicemail").pipe(
          Effect.annotateLogs({ tenant_id: tenant.tenantId, call_sid: callSid })
        )
        return "ok" as CallbackOutcome
      }
      yield* twilio.updateCall(
        credentials.value,
        callSid,
        mode === "voicemail" && message !== undefined ? { twiml: voicemailTwiml(message) } : { status: "completed" }
      ).pipe(
        Effect.tap(() => Effect.logInfo(`machine answered: ${mode === "voicemail" ? "voicemail left" : "hung up"}`)),
        Effect.catchAll((error) => Effect.logWarning("could not act on a machine answer", error.message)),
        Effect.annotateLogs({ tenant_id: tenant.tenantId, call_sid: callSid })
      )
      return "ok" as CallbackOutcome
    })

    const recording = Effect.fn("MachineAnswers.recording")(function*(hook: SignedCallback) {
      const callSid = hook.params.CallSid
      const url = hook.params.RecordingUrl
      if (callSid === undefined || url === undefined || !/^https:\/\//.test(url) || url.length > 2_000) {
        return "bad_request" as CallbackOutcome
      }
      const resolved = yield* resolve(hook)
      if (resolved._tag === "BadSignature") return "unauthorized" as CallbackOutcome
      if (resolved._tag === "Unknown") return "unknown_tenant" as CallbackOutcome
      if (hook.params.RecordingStatus !== undefined && hook.params.RecordingStatus !== "completed") return "ok" as CallbackOutcome
      yield* note(resolved.tenant.tenantId, callSid, null, url)
      return "ok" as CallbackOutcome
    })

    return { amd, recording } as const
  }),
  dependencies: [TwilioClient.Default, CallLogWrites.Default]
}) {}
