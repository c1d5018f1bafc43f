import { Deferred, Effect, Exit, FiberId } from "effect"
import { type BootstrapHandler, StreamRejected } from "../Media/Bootstrap.js"
import type { CallIdentity } from "../Media/CallIdentity.js"
import type { TwilioSocket } from "../Media/TwilioSocket.js"
import { CallMonitors } from "./CallMonitors.js"
import type { Listener } from "./Listeners.js"

/**
 * The media stream of a supervisor's listen-only leg (its token names the call, `monitorOf`):
 * attached to that call on this replica until either ends. It never reaches the model and
 * what the supervisor says is dropped; it hears the caller and the agent mixed (Listeners).
 * The supervisor hanging up only detaches the leg.
 */
export const runListenLeg = (twilio: TwilioSocket, boot: BootstrapHandler, id: CallIdentity, monitorOf: string) =>
  Effect.gen(function*() {
    const call = (yield* CallMonitors).find(monitorOf)
    if (call === undefined || call.tenantId !== id.tenantId) {
      return yield* new StreamRejected({ message: "the monitored call is not running on this replica" })
    }
    const done = Deferred.unsafeMake<void>(FiberId.none)
    const end = () => void Deferred.unsafeDone(done, Exit.void)
    // Listen-only: the supervisor's audio (and anything else they send) goes nowhere.
    twilio.handler = { media() {}, mark() {}, start() {}, dtmf() {}, stop: end, closed: end }
    if (boot.endedEarly !== undefined) return
    const listener: Listener = { socket: twilio, callSid: id.callSid, end }
    if (!call.attach(listener)) return yield* new StreamRejected({ message: "the monitored call has ended" })
    yield* Effect.logInfo("listen-only leg attached")
    yield* Deferred.await(done).pipe(
      Effect.ensuring(Effect.sync(() => {
        call.detach(listener)
        twilio.close(1000, "monitoring ended")
      }))
    )
  }).pipe(
    Effect.annotateLogs({ tenant_id: id.tenantId, stream_sid: id.streamSid, call_sid: id.callSid ?? "", monitor_of: monitorOf })
  )
