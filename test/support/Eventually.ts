import { Effect } from "effect"

/**
 * Re-runs `effect` until `check` holds or `timeoutMs` of real time passes, and returns the
 * last result (the caller asserts on it). For effects that land asynchronously: NOTIFY
 * reaching another replica, a pool reconnecting. Real timers, so a TestClock cannot stall it.
 */
export const eventually = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  check: (a: A) => boolean,
  timeoutMs = 15_000
): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    let last = yield* effect
    while (!check(last) && Date.now() < deadline) {
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
      last = yield* effect
    }
    return last
  })
