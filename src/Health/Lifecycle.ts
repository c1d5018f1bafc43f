import { Runtime } from "@effect/platform"
import { Duration, Effect } from "effect"
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

const SIGNALS = ["SIGTERM", "SIGINT"] as const

const firstSignal = Effect.async<NodeJS.Signals>((resume) => {
  const onSignal = (signal: NodeJS.Signals) => {
    for (const name of SIGNALS) process.off(name, onSignal)
    resume(Effect.succeed(signal))
  }
  for (const name of SIGNALS) process.on(name, onSignal)
  return Effect.sync(() => {
    for (const name of SIGNALS) process.off(name, onSignal)
  })
})

/**
 * Serves until SIGTERM/SIGINT, then drains: readiness goes 503 while requests are still
 * answered for SHUTDOWN_GRACE_SECONDS, so load balancers stop routing here before the
 * server closes. (A layer finalizer cannot do this: sibling layers close in parallel.)
 */
export const serveUntilSignalled = Effect.gen(function*() {
  const lifecycle = yield* Lifecycle
  const config = yield* AppConfig
  const signal = yield* firstSignal
  yield* lifecycle.startDraining
  yield* Effect.logInfo("draining before shutdown").pipe(
    Effect.annotateLogs({ signal, grace_seconds: config.shutdownGraceSeconds })
  )
  yield* Effect.sleep(Duration.seconds(config.shutdownGraceSeconds))
})

/**
 * Like NodeRuntime.runMain, but the first signal is the program's to handle (it drains);
 * a second one interrupts at once.
 */
export const runMainWithDrain = Runtime.makeRunMain(({ fiber, teardown }) => {
  const keepAlive = setInterval(() => {}, 2 ** 31 - 1)
  let signals = 0
  const onSignal = () => {
    signals++
    if (signals >= 2) fiber.unsafeInterruptAsFork(fiber.id())
  }
  process.on("SIGTERM", onSignal)
  process.on("SIGINT", onSignal)
  fiber.addObserver((exit) => {
    clearInterval(keepAlive)
    process.off("SIGTERM", onSignal)
    process.off("SIGINT", onSignal)
    teardown(exit, (code) => process.exit(code))
  })
})
