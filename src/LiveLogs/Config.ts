import { Effect } from "effect"
import { positiveInt } from "../ConfigIntegers.js"

/** Bounds of the live log stream (`/api/v1/logs`). */
export class LiveLogsConfig extends Effect.Service<LiveLogsConfig>()("LiveLogsConfig", {
  effect: Effect.gen(function*() {
    return {
      /** Events waiting to be fanned out per replica; past it new events are dropped (and counted). */
      queueSize: yield* positiveInt("LIVE_LOGS_QUEUE_SIZE", 1_000),
      /** Bytes a subscriber's socket may have unsent; past it the subscriber is disconnected (4008). */
      subscriberBufferBytes: yield* positiveInt("LIVE_LOGS_SUBSCRIBER_BUFFER_BYTES", 1_048_576),
      /** Subscribers one tenant may have on one replica; more get 429. */
      maxSubscribersPerTenant: yield* positiveInt("LIVE_LOGS_MAX_SUBSCRIBERS_PER_TENANT", 20),
      /** How often a replica renews its presence rows and re-reads the others'. */
      presenceSeconds: yield* positiveInt("LIVE_LOGS_PRESENCE_SECONDS", 10)
    } as const
  })
}) {}
