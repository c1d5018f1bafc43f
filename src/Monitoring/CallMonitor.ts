import { Effect, Option } from "effect"
import { StreamTokens } from "../Auth/StreamTokens.js"
import { AppConfig } from "../Config.js"
import { Applied, type CommandResult, type Listen, Refused, Unavailable } from "../LiveCalls/Domain.js"
import type { CallIdentity } from "../Media/CallIdentity.js"
import type { TenantConfig } from "../Tenants/Config.js"
import { TranslationConfig } from "../Translation/TranslationConfig.js"
import { defaultFromNumber, twilioCredentials } from "../Twilio/Account.js"
import { TwilioClient } from "../Twilio/Client.js"
import { connectStream, mediaStreamUrl } from "../Twilio/Twiml.js"
import { CallMonitors } from "./CallMonitors.js"
import { type Listener, Listeners, type Tappable } from "./Listeners.js"
import { onScopeClose } from "../Media/ScopeFinalizer.js"

/** How long the supervisor's phone rings before Twilio gives up. */
const RING_SECONDS = 30

/**
 * A running call's listen-only legs (a supervisor's `monitor` with a target), for the call's
 * scope. `dial` runs on the replica that holds the call (the command is routed there), so
 * the leg's stream names this replica: REPLICA_BASE_URL, else PUBLIC_BASE_URL. The leg is
 * an outbound call from the call's own number whose TwiML streams to `/media-stream` with a
 * single-use token naming this call (`monitorOf`). When the call ends every leg still on
 * the line is closed and hung up through Twilio's REST API.
 */
export const makeCallMonitor = (id: CallIdentity, tenantConfig: TenantConfig, call: Tappable) =>
  Effect.gen(function*() {
    const platform = yield* AppConfig
    const { replicaBaseUrl } = yield* TranslationConfig
    const tokens = yield* StreamTokens
    const twilio = yield* TwilioClient
    const monitors = yield* CallMonitors
    const credentials = twilioCredentials(tenantConfig, platform)
    const streamUrl = mediaStreamUrl(Option.getOrElse(replicaBaseUrl, () => platform.publicBaseUrl))
    // The number the supervisor sees: ours on this call, as for transfers (EscalateCall.callerIdOf).
    const ours = id.direction === "inbound" ? id.to : id.direction === "outbound" ? id.from : null
    const callerId = ours ?? Option.getOrNull(defaultFromNumber(tenantConfig, platform))
    const listeners = new Listeners(call)
    /** Legs dialled and not known to have hung up. */
    const legs = new Set<string>()
    let ended = false

    const hangUp = (legSid: string) =>
      Option.match(credentials, {
        onNone: () => Effect.void,
        onSome: (account) =>
          twilio.updateCall(account, legSid, { status: "completed" }).pipe(
            Effect.timeout("5 seconds"),
            Effect.catchAll((error) => Effect.logWarning("could not hang up a listen-only leg", String(error)))
          )
      })

    monitors.register(id.streamSid, {
      tenantId: id.tenantId,
      attach: (listener: Listener) => {
        if (ended) return false
        listeners.add(listener)
        return true
      },
      detach: (listener: Listener) => {
        listeners.remove(listener)
        // The supervisor hung up (or was dropped, and its stream closed): nothing to hang up later.
        if (listener.callSid !== null) legs.delete(listener.callSid)
      }
    })
    yield* onScopeClose(() =>
      Effect.suspend(() => {
        ended = true
        monitors.unregister(id.streamSid)
        listeners.closeAll("the monitored call ended")
        const left = [...legs]
        legs.clear()
        return Effect.forEach(left, hangUp, { concurrency: "unbounded", discard: true })
      })
    )

    const place = (command: Listen) =>
      Effect.gen(function*() {
        if (Option.isNone(credentials)) return new Refused({ reason: "Twilio is not configured for this tenant" })
        if (callerId === null) return new Refused({ reason: "no caller id to call the supervisor from: set twilio.from_number" })
        const token = yield* tokens.mint({
          tenantId: id.tenantId,
          callSid: id.callSid ?? id.streamSid,
          agentVersionId: null,
          direction: id.direction,
          from: callerId,
          to: command.target,
          monitorOf: id.streamSid
        })
        const twiml = connectStream(streamUrl, [["stream_token", token], ["monitor_of", id.streamSid]])
        const leg = yield* twilio.createCall(credentials.value, { to: command.target, from: callerId, twiml, timeout: RING_SECONDS })
        if (ended) {
          yield* hangUp(leg.sid)
          return new Refused({ reason: "the call ended while the supervisor was being dialled" })
        }
        legs.add(leg.sid)
        yield* Effect.logInfo("listen-only leg dialled").pipe(
          Effect.annotateLogs({ leg_call_sid: leg.sid, supervisor: command.supervisor })
        )
        return new Applied()
      })

    /** Dials `command.target` as a listen-only leg of this call: `Unavailable` when Twilio (or the database) failed. */
    const dial = (command: Listen): Effect.Effect<CommandResult> =>
      place(command).pipe(
        Effect.catchAll((error): Effect.Effect<CommandResult> =>
          Effect.succeed(
            error._tag === "TwilioRejected"
              ? new Refused({ reason: `Twilio did not call the supervisor: ${error.message}` })
              : new Unavailable({ reason: `the supervisor could not be called: ${error.message}` })
          )
        )
      )

    return { dial } as const
  })
