import { Effect } from "effect"

/**
 * A coalescing wake-up for one waiting fiber. `signal` is a plain function (a notification
 * handler, a timer) that never blocks; `await` returns at once if a signal came since the
 * last `await` returned, else waits for the next one. Any number of signals before the waiter
 * resumes count as one, and a signal while the fiber works is kept for its next `await`:
 * work started after `await` returns sees everything signalled before, nothing is lost.
 */
export interface Wake {
  readonly signal: () => void
  readonly await: Effect.Effect<void>
}

export const makeWake = (): Wake => {
  let pending = false
  let waiter: (() => void) | undefined

  const signal = () => {
    pending = true
    const resume = waiter
    waiter = undefined
    resume?.()
  }
  // Cleared when the waiter runs again, not when it is signalled: signals in between are covered too.
  const consume = Effect.sync(() => {
    pending = false
  })
  const sleep = Effect.async<void>((resume) => {
    waiter = () => resume(Effect.void)
    return Effect.sync(() => {
      waiter = undefined
    })
  })
  const await_ = Effect.suspend(() => pending ? consume : Effect.zipRight(sleep, consume))

  return { signal, await: await_ }
}
