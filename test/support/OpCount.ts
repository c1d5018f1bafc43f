import { Effect, RuntimeFlags, RuntimeFlagsPatch, Supervisor } from "effect"

/**
 * `self`'s result and how many Effect operations it ran (a counting supervisor with operation
 * supervision on): an exact, load-independent measure of what a path costs the runtime.
 */
export const opsOf = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    let ops = 0
    class Counting extends Supervisor.AbstractSupervisor<void> {
      get value() {
        return Effect.void
      }
      override onEffect() {
        ops++
      }
    }
    const result = yield* self.pipe(
      Effect.supervised(new Counting()),
      Effect.withRuntimeFlagsPatch(RuntimeFlagsPatch.enable(RuntimeFlags.OpSupervision))
    )
    return { result, ops }
  })
