import { Config, Effect } from "effect"

/** Settings of requests to tenant-chosen URLs (webhooks, ticket and billing endpoints, tools). */
export class EgressConfig extends Effect.Service<EgressConfig>()("EgressConfig", {
  effect: Effect.gen(function*() {
    return {
      /**
       * Lets outbound URLs reach loopback and private addresses and use plain http: for local
       * development and tests only, never in production.
       */
      allowPrivate: yield* Config.boolean("ALLOW_PRIVATE_OUTBOUND_URLS").pipe(Config.withDefault(false))
    } as const
  })
}) {}
