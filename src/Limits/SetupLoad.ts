import { Effect, Metric } from "effect"
import { AppConfig } from "../Config.js"
import { label, limitRefusals } from "../Observability/Metrics.js"
import { sayAndHangUp } from "../Twilio/Twiml.js"
import { BUSY_MESSAGE } from "./Inbound.js"

/**
 * Call set-ups this replica is doing at once: inbound webhooks between arrival and TwiML, and
 * media streams from their `start` to its authentication (their token spent); a stream still
 * waiting for its `start` is work the caller's side owes, bounded apart (MEDIA_MAX_PENDING_BOOTSTRAP,
 * the bootstrap deadline). A healthy replica does each
 * in milliseconds, so many at once means it is behind (a
 * burst beyond what its CPU sets up): then every step of every call waits behind every other,
 * callers hear seconds of silence and then an apology or nothing. Past
 * MAX_CALL_SETUPS_IN_FLIGHT the caller hears the busy message at once instead, without any
 * database work, so the calls already taken keep their time.
 */
export class SetupLoad extends Effect.Service<SetupLoad>()("SetupLoad", {
  effect: Effect.gen(function*() {
    const { maxCallSetupsInFlight } = yield* AppConfig
    let inFlight = 0
    // Streams from upgrade to settled (the analysis worker's quiet moment), and of those the ones
    // whose `start` came (the shedding's count: the replica's own work).
    let streams = 0
    let started = 0
    // When the last set-up ended (the post-call analysis worker waits for a quiet moment).
    let idleSince = Date.now()
    const ended = () => {
      if (inFlight + streams === 0) idleSince = Date.now()
    }
    const shed = limitRefusals.pipe(
      Metric.taggedWithLabels([label("tenant", "-"), label("reason", "replica_overloaded"), label("kind", "inbound_call")])
    )

    /** Runs `setUp` (the webhook's answer) counted, or answers busy when the replica is full. */
    const admit = <E, R>(callSid: string, setUp: Effect.Effect<string, E, R>): Effect.Effect<string, E, R> =>
      Effect.suspend(() => {
        if (inFlight + started >= maxCallSetupsInFlight) {
          return Metric.increment(shed).pipe(
            Effect.zipRight(Effect.logWarning("call set-up refused: replica overloaded").pipe(
              Effect.annotateLogs({ call_sid: callSid, webhooks: inFlight, streams: started, streams_before_start: streams - started })
            )),
            Effect.as(sayAndHangUp(BUSY_MESSAGE))
          )
        }
        inFlight++
        return Effect.ensuring(setUp, Effect.sync(() => {
          inFlight--
          ended()
        }))
      })

    return {
      admit,
      /** A media stream is waiting for its authenticated `start` (MediaStreams). */
      streamWaiting: () => void streams++,
      /** ... its `start` came and is being set up (StreamSetUp.starting). */
      streamStarted: () => void started++,
      /** ... and is set up, or is gone. */
      streamDone: (wasStarted: boolean) => {
        streams--
        if (wasStarted) started--
        ended()
      },
      /** Milliseconds since this replica last had a call set-up in flight; 0 while it has one. */
      quietMs: () => (inFlight + streams > 0 ? 0 : Date.now() - idleSince)
    } as const
  })
}) {}
