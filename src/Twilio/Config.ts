import { Config, Effect } from "effect"

/**
 * Settings of the Twilio REST client. Read through `Config` like `AppConfig` (which keeps
 * TWILIO_API_BASE_URL and the platform credentials), kept here because only the client uses them.
 */
export class TwilioConfig extends Effect.Service<TwilioConfig>()("TwilioConfig", {
  effect: Effect.gen(function*() {
    return {
      /** Longest wait for one REST request (connect, send, whole answer). */
      requestTimeoutMs: yield* Config.integer("TWILIO_REQUEST_TIMEOUT_MS").pipe(
        Config.withDefault(10_000),
        Config.validate({ message: "TWILIO_REQUEST_TIMEOUT_MS must be a positive integer", validation: (n) => n > 0 })
      )
    } as const
  })
}) {}
