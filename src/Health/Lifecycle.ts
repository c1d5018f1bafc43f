import * as Runtime from "@effect/platform/Runtime"
import { Clock, Duration, Effect, Schedule } from "effect"
import { AppConfig } from "../Config.js"
import { Depart, End } from "../LiveCalls/Domain.js"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"

/**
 * Shutdown, in two steps: `draining` (readiness 503, so load balancers stop routing here,
 * while requests are still answered) and `closedToCalls` (no new media stream is taken;
 * the live ones run on).
 */
export class Lifecycle extends Effect.Service<Lifecycle>()("Lifecycle", {
  sync: () => {
    let draining = false
    let closed = false
    return {
      isDraining: Effect.sync(() => draining),
      drainingNow: (): boolean => draining,
      startDraining: Effect.sync(() => {
        draining = true
      }),
      isClosedToCalls: Effect.sync(() => closed),
      closedToCallsNow: (): boolean => closed,
      closeToCalls: Effect.sync(() => {
        closed = true
      })
    } as const
  }
}) {}

const SIGNALS = ["SIGTERM", "SIGINT"] as const

/** What the agent says to the calls still running when the drain deadline comes. */
export const SHUTDOWN_GOODBYE =
  "I'm sorry, I have to end our call now for scheduled maintenance. Please call back in a moment. Goodbye."
/** How long the goodbyes may take (spoken, then played out) before the calls left are ended as they are. */
const GOODBYE_SECONDS = 20

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

/** Waits until this replica runs no call, checking every `every`; the count left at `within`. */
const callsEndWithin = (calls: LiveCalls, within: Duration.Duration, every: Duration.DurationInput) =>
  calls.heldCount.pipe(
    Effect.repeat({ until: (n) => n === 0, schedule: Schedule.spaced(every) }),
    Effect.timeoutTo({ duration: within, onSuccess: () => 0, onTimeout: () => -1 }),
    Effect.flatMap((n) => n === 0 ? Effect.succeed(0) : calls.heldCount)
  )

/**
 * Serves until SIGTERM/SIGINT, then shuts down without cutting calls: readiness goes 503
 * at once; requests are still answered for SHUTDOWN_GRACE_SECONDS (load balancers move
 * away); then no new call is taken and the live ones run to their end, up to
 * SHUTDOWN_CALL_DRAIN_SECONDS after the signal; the calls left then hear the agent's
 * goodbye and end (recorded as ended by command). Only then do the layers close.
 * (A layer finalizer cannot do this: sibling layers close in parallel.)
 */
export const serveUntilSignalled = Effect.gen(function*() {
  const lifecycle = yield* Lifecycle
  const config = yield* AppConfig
  const calls = yield* LiveCalls
  const signal = yield* firstSignal
  const signalledAt = yield* Clock.currentTimeMillis
  yield* lifecycle.startDraining
  yield* Effect.logInfo("draining before shutdown").pipe(Effect.annotateLogs({
    signal,
    grace_seconds: config.shutdownGraceSeconds,
    call_drain_seconds: config.shutdownCallDrainSeconds,
    live_calls: yield* calls.heldCount
  }))
  yield* Effect.sleep(Duration.seconds(config.shutdownGraceSeconds))
  yield* lifecycle.closeToCalls
  const elapsed = (yield* Clock.currentTimeMillis) - signalledAt
  const drainLeft = Duration.millis(Math.max(0, config.shutdownCallDrainSeconds * 1000 - elapsed))
  const left = yield* callsEndWithin(calls, drainLeft, "500 millis")
  if (left === 0) return yield* Effect.logInfo("no live calls left; shutting down")

  yield* Effect.logWarning("drain deadline reached; the agent says goodbye to the calls left").pipe(
    Effect.annotateLogs({ live_calls: left })
  )
  yield* calls.broadcast(new Depart({ text: SHUTDOWN_GOODBYE, reason: "the service is shutting down" }))
  const unfinished = yield* callsEndWithin(calls, Duration.seconds(GOODBYE_SECONDS), "200 millis")
  if (unfinished === 0) return
  // A goodbye that could not finish (no audio back): the call still ends through its normal path.
  yield* calls.broadcast(new End({ reason: "the service is shutting down" }))
  yield* callsEndWithin(calls, Duration.seconds(10), "100 millis")
})

/** Two SIGINTs this far apart are a person pressing Ctrl-C twice: stop now. */
const FORCE_AFTER_MS = 1000

/**
 * Like NodeRuntime.runMain, but signals are the program's to handle (it drains). SIGTERM
 * never cuts the drain short: with `npm start` or a wrapper, the process group's SIGTERM
 * reaches us and is forwarded again, so repeats are one request. Only a second SIGINT, a
 * moment after the first, interrupts at once (and SIGKILL, which nobody can catch).
 */
export const runMainWithDrain = Runtime.makeRunMain(({ fiber, teardown }) => {
  const keepAlive = setInterval(() => {}, 2 ** 31 - 1)
  let firstInterruptAt: number | undefined
  const onSigint = () => {
    const now = Date.now()
    if (firstInterruptAt === undefined) firstInterruptAt = now
    else if (now - firstInterruptAt >= FORCE_AFTER_MS) fiber.unsafeInterruptAsFork(fiber.id())
  }
  const onSigterm = () => {}
  process.on("SIGINT", onSigint)
  process.on("SIGTERM", onSigterm)
  fiber.addObserver((exit) => {
    clearInterval(keepAlive)
    process.off("SIGINT", onSigint)
    process.off("SIGTERM", onSigterm)
    teardown(exit, (code) => process.exit(code))
  })
})
