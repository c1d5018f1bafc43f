import { Config, Effect, Option } from "effect"
import { positiveInt } from "../ConfigIntegers.js"

/** Settings of translation calls (docs/translation-calls.md). */
export class TranslationConfig extends Effect.Service<TranslationConfig>()("TranslationConfig", {
  effect: Effect.gen(function*() {
    const replica = yield* Config.option(Config.string("REPLICA_BASE_URL"))
    return {
      /**
       * This replica's own address (`https://replica-3.voice.example`), reachable by Twilio
       * past the load balancer. When set, both legs of a room stream to the replica that
       * answered the room's first webhook; unset, they go to PUBLIC_BASE_URL and must meet
       * on one replica by chance (one replica, or sticky routing).
       */
      replicaBaseUrl: Option.map(replica, (url) => url.replace(/\/+$/, "")),
      /** How long the first leg waits on the line for the other to join before both are ended. */
      joinTimeoutSeconds: yield* positiveInt("TRANSLATION_JOIN_TIMEOUT_SECONDS", 60)
    }
  })
}) {}
