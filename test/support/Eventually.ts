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

/**
 * `eventually` for a wait the test goes on from (nothing asserts its result): fails, showing the
 * last result, if `check` still does not hold at the deadline. A wait that ran out silently let
 * a test go on from a state it never reached, and fail later for a reason it did not name (or
 * not at all).
 */
export const eventuallyHolds = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  check: (a: A) => boolean,
  timeoutMs = 15_000
): Effect.Effect<A, E, R> =>
  Effect.flatMap(eventually(effect, check, timeoutMs), (last) =>
    check(last)
      ? Effect.succeed(last)
      : Effect.dieMessage(`not within ${timeoutMs} ms: ${check.toString()}; the last result: ${shown(last)}`))

const shown = (value: unknown): string => {
  try {
    return (JSON.stringify(value) ?? String(value)).slice(0, 500)
  } catch {
    return String(value)
  }
}
