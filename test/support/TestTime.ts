import { Effect, TestClock, TestContext } from "effect"

/**
 * Runs `effect` on a TestClock of its own that reads `iso` until the effect moves it
 * (`TestClock.adjust`). For services called in-process by the test; the suite's server
 * itself keeps its own clock.
 */
export const atTime = (iso: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.zipRight(TestClock.setTime(Date.parse(iso)), effect).pipe(Effect.provide(TestContext.TestContext))
