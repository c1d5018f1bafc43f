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
import { CallMonitors, type MonitoredCall } from "./CallMonitors.js"
import { type Listener, Listeners, type Tappable } from "./Listeners.js"

/** How long the supervisor's phone rings before Twilio gives up. */
const RING_SECONDS = 30

/** What every call's monitor uses, read once per call set-up: references, nothing built per call. */
interface MonitorServices {
  readonly platform: AppConfig
  readonly translation: TranslationConfig
  readonly tokens: StreamTokens
  readonly twilio: TwilioClient
  readonly monitors: CallMonitors
}

/**
 * A running call's listen-only legs (a supervisor's `monitor` with a target), for the call's
 * length. `dial` runs on the replica that holds the call (the command is routed there), so
 * the leg's stream names this replica: REPLICA_BASE_URL, else PUBLIC_BASE_URL. The leg is
 * an outbound call from the call's own number whose TwiML streams to `/media-stream` with a
 * single-use token naming this call (`monitorOf`). `close` (the call's end) closes every leg
 * still on the line and hangs it up through Twilio's REST API.
 *
 * One object with methods, its listeners and legs made on the first dial: every call has a
 * monitor and almost none is ever listened to (a closure per method and callback cost each
 * call ~1 KB, bench/RESULTS.md).
 */
export class CallMonitor implements MonitoredCall {
  private listeners: Listeners | undefined = undefined
  /** Legs dialled and not known to have hung up. */
  private legs: Set<string> | undefined = undefined
  private ended = false

  constructor(
    private readonly id: CallIdentity,
    private readonly tenantConfig: TenantConfig,
    private readonly call: Tappable,
    private readonly services: MonitorServices
  ) {}

  get tenantId(): string {
    return this.id.tenantId
  }

  /** Lets legs find this call (CallMonitors) until `close`. */
  register(): void {
    this.services.monitors.register(this.id.streamSid, this)
  }

  /** Starts a leg hearing the call; false once it has ended. */
  attach(listener: Listener): boolean {
    if (this.ended) return false
    this.listeners ??= new Listeners(this.call)
    this.listeners.add(listener)
    return true
  }

  detach(listener: Listener): void {
    this.listeners?.remove(listener)
    // The supervisor hung up (or was dropped, and its stream closed): nothing to hang up later.
    if (listener.callSid !== null) this.legs?.delete(listener.callSid)
  }

  /** The call has ended: legs stop finding it, every listener is closed, every leg hung up. */
  close(): Effect.Effect<void> {
    this.ended = true
    this.services.monitors.unregister(this.id.streamSid)
    this.listeners?.closeAll("the monitored call ended")
    const left = this.legs === undefined ? [] : [...this.legs]
    this.legs = undefined
    // Most calls had no leg: no `forEach` machinery (a dozen operations) at every call's end.
    if (left.length === 0) return Effect.void
    return Effect.forEach(left, (leg) => this.hangUp(leg), { concurrency: "unbounded", discard: true })
  }

  /** Dials `command.target` as a listen-only leg of this call: `Unavailable` when Twilio (or the database) failed. */
  dial(command: Listen): Effect.Effect<CommandResult> {
    return this.place(command).pipe(
      Effect.catchAll((error): Effect.Effect<CommandResult> =>
        Effect.succeed(
          error._tag === "TwilioRejected"
            ? new Refused({ reason: `Twilio did not call the supervisor: ${error.message}` })
            : new Unavailable({ reason: `the supervisor could not be called: ${error.message}` })
        )
      )
    )
  }

  private place(command: Listen) {
    const self = this
    const { id, tenantConfig, services } = this
    return Effect.gen(function*() {
      const credentials = twilioCredentials(tenantConfig, services.platform)
      if (Option.isNone(credentials)) return new Refused({ reason: "Twilio is not configured for this tenant" })
      // The number the supervisor sees: ours on this call, as for transfers (EscalateCall.callerIdOf).
      const ours = id.direction === "inbound" ? id.to : id.direction === "outbound" ? id.from : null
      const callerId = ours ?? Option.getOrNull(defaultFromNumber(tenantConfig, services.platform))
      if (callerId === null) return new Refused({ reason: "no caller id to call the supervisor from: set twilio.from_number" })
      const token = yield* services.tokens.mint({
        tenantId: id.tenantId,
        callSid: id.callSid ?? id.streamSid,
        agentVersionId: null,
        direction: id.direction,
        from: callerId,
        to: command.target,
        monitorOf: id.streamSid
      })
      const streamUrl = mediaStreamUrl(Option.getOrElse(services.translation.replicaBaseUrl, () => services.platform.publicBaseUrl))
      const twiml = connectStream(streamUrl, [["stream_token", token], ["monitor_of", id.streamSid]])
      const leg = yield* services.twilio.createCall(credentials.value, { to: command.target, from: callerId, twiml, timeout: RING_SECONDS })
      if (self.ended) {
        yield* self.hangUp(leg.sid)
        return new Refused({ reason: "the call ended while the supervisor was being dialled" })
      }
      self.legs ??= new Set()
      self.legs.add(leg.sid)
      yield* Effect.logInfo("listen-only leg dialled").pipe(
        Effect.annotateLogs({ leg_call_sid: leg.sid, supervisor: command.supervisor })
      )
      return new Applied()
    })
  }

  private hangUp(legSid: string): Effect.Effect<void> {
    return Option.match(twilioCredentials(this.tenantConfig, this.services.platform), {
      onNone: () => Effect.void,
      onSome: (account) =>
        this.services.twilio.updateCall(account, legSid, { status: "completed" }).pipe(
          Effect.timeout("5 seconds"),
          Effect.catchAll((error) => Effect.logWarning("could not hang up a listen-only leg", String(error)))
        )
    })
  }
}

/** The services a call's monitor uses, read in the call's set-up. */
export const monitorServices = Effect.all({
  platform: AppConfig,
  translation: TranslationConfig,
  tokens: StreamTokens,
  twilio: TwilioClient,
  monitors: CallMonitors
})
