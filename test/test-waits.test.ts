import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit } from "effect"
import { eventually, eventuallyHolds } from "./support/Eventually.js"

describe("test waits", () => {
  it.live("eventually gives back the last result when time runs out; eventuallyHolds fails, naming it", () =>
    Effect.gen(function*() {
      let n = 0
      const count = Effect.sync(() => ++n)
      expect(yield* eventually(count, (x) => x < 0, 120)).toBeGreaterThan(1)
      const exit = yield* Effect.exit(eventuallyHolds(count, (x) => x < 0, 120))
      expect(Exit.isFailure(exit)).toBe(true)
      if (Exit.isFailure(exit)) expect(Cause.pretty(exit.cause)).toMatch(/not within 120 ms: .*x < 0.*the last result: \d+/)
      // A condition that comes true is waited for, and its result returned.
      let m = 0
      expect(yield* eventuallyHolds(Effect.sync(() => ++m), (x) => x >= 3, 5_000)).toBe(3)
    }))
})
