import { Effect, Option, Redacted, Schedule } from "effect"
import { AppConfig } from "../Config.js"
import { Lifecycle } from "../Health/Lifecycle.js"
import { MediaConfig } from "./MediaConfig.js"
import { SparePool } from "./SparePool.js"

/**
 * This replica's spare upstream sockets (SparePool): `MEDIA_SPARE_UPSTREAMS` per realtime URL
 * that calls used lately, opened with the platform's OPENAI_API_KEY (none without one). Once a
 * second they are checked (age, idle URLs, draining: a draining replica holds none); the
 * layer's end closes them all. Per process: replicas share nothing here.
 */
export class SpareUpstreams extends Effect.Service<SpareUpstreams>()("SpareUpstreams", {
  scoped: Effect.gen(function*() {
    const media = yield* MediaConfig
    const config = yield* AppConfig
    const lifecycle = yield* Lifecycle
    const clock = yield* Effect.clock
    const pool = new SparePool({
      perUrl: media.spareUpstreams,
      maxAgeMs: media.spareUpstreamMaxAgeSeconds * 1000,
      idleMs: media.spareUpstreamIdleSeconds * 1000,
      connectTimeoutMs: media.upstreamConnectTimeoutMs,
      apiKey: Option.match(config.openaiApiKey, { onNone: () => "", onSome: Redacted.value }),
      now: () => clock.unsafeCurrentTimeMillis(),
      draining: lifecycle.drainingNow
    })
    if (pool.enabled) {
      yield* Effect.addFinalizer(() => Effect.sync(() => pool.closeAll()))
      yield* Effect.forkScoped(Effect.repeat(Effect.sync(() => pool.tick()), Schedule.spaced("1 second")))
    }
    return {
      /** A ready spare for `url` (see SparePool.take), or undefined: the call opens its own. */
      take: (url: string) => pool.take(url)
    } as const
  }),
  dependencies: [MediaConfig.Default]
}) {}
