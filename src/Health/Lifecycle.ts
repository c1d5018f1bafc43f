import { Duration, Effect, Layer } from "effect"
import { AppConfig } from "../Config.js"

/** Set when shutdown begins: readiness turns 503 so load balancers stop sending traffic. */
export class Lifecycle extends Effect.Service<Lifecycle>()("Lifecycle", {
  sync: () => {
    let draining = false
    return {
      isDraining: Effect.sync(() => draining),
      startDraining: Effect.sync(() => {
        draining = true
      })
    } as const
  }
}) {}

/**
 * Built after the HTTP server, so on shutdown it runs first: readiness goes 503 and the
 * server keeps answering for SHUTDOWN_GRACE_SECONDS while load balancers notice.
 */
export const DrainOnShutdown = Layer.scopedDiscard(
  Effect.gen(function*() {
    const lifecycle = yield* Lifecycle
    const config = yield* AppConfig
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* lifecycle.startDraining
        yield* Effect.logInfo("draining before shutdown").pipe(
          Effect.annotateLogs("grace_seconds", config.shutdownGraceSeconds)
        )
        yield* Effect.sleep(Duration.seconds(config.shutdownGraceSeconds))
      })
    )
  })
)
