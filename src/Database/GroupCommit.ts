import { Deferred, Effect, Fiber, FiberId, Runtime } from "effect"

/** An entry waiting for its batch: its own answer comes through `done`. */
export interface Waiting<A, R, E> {
  readonly entry: A
  readonly done: Deferred.Deferred<R, E>
  /** Its caller stopped waiting before it was sent: it is not sent (its retry, if any, queues anew). */
  abandoned: boolean
}

export interface GroupCommitOptions<A, R, E> {
  /** Runs one batch (1 to `cap` entries, in arrival order) and completes every entry's `done`. */
  readonly send: (batch: ReadonlyArray<Waiting<A, R, E>>) => Effect.Effect<void>
  /** What an entry must not share a statement with: another entry with an equal key waits for the next. */
  readonly keysOf: (entry: A) => ReadonlyArray<string>
  readonly cap: number
}

/**
 * Group commit (LiveCalls/RedeemBatches.ts, CallLogs/RecordBatches.ts): an entry is sent at once
 * as a batch of one when no batch is in flight; while one is, entries queue, and when it
 * completes the queued ones (up to `cap`) go as the next batch. One statement and one WAL flush
 * per batch instead of per entry, with no added wait: an entry waits at most for the batch in
 * flight. Entries sharing a key never share a batch, so which of them wrote is never ambiguous.
 * On the layer's close what is queued is still sent; an entry after that runs `alone`.
 */
export const makeGroupCommit = <A, R, E>({ cap, keysOf, send }: GroupCommitOptions<A, R, E>) =>
  Effect.gen(function*() {
    // The batches run on fibers of their own (of the layer's runtime): no caller's interruption stops one.
    const fork = Runtime.runFork(yield* Effect.runtime<never>())
    let queue: Array<Waiting<A, R, E>> = []
    let inFlight = false
    let runner: Fiber.RuntimeFiber<void> | undefined
    let closed = false

    /** The next batch, in arrival order: a later entry with a key already in it stays queued. */
    const take = (): Array<Waiting<A, R, E>> => {
      if (queue.length <= 1) {
        const batch = queue.filter((waiting) => !waiting.abandoned)
        queue = []
        return batch
      }
      const batch: Array<Waiting<A, R, E>> = []
      const later: Array<Waiting<A, R, E>> = []
      const keys = new Set<string>()
      for (const waiting of queue) {
        if (waiting.abandoned) continue
        const own = keysOf(waiting.entry)
        if (batch.length >= cap || own.some((key) => keys.has(key))) {
          later.push(waiting)
        } else {
          batch.push(waiting)
          for (const key of own) keys.add(key)
        }
      }
      queue = later
      return batch
    }

    const loop: Effect.Effect<void> = Effect.suspend(() => {
      const batch = take()
      if (batch.length === 0) {
        inFlight = false
        runner = undefined
        return Effect.void
      }
      return Effect.zipRight(send(batch), loop)
    })

    const start = () => {
      inFlight = true
      // It may finish before `runFork` returns (the fiber starts at once): then it is not kept.
      const fiber = fork(loop)
      if (inFlight) runner = fiber
    }

    // Shutdown: what is queued is sent by the batch in flight, which runs until the queue is empty.
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        closed = true
        return runner === undefined ? Effect.void : Fiber.await(runner)
      })
    )

    /** `entry`'s answer from its batch; after the layer's close, `alone()`'s. */
    const submit = (entry: A, alone: () => Effect.Effect<R, E>): Effect.Effect<R, E> =>
      Effect.suspend(() => {
        if (closed) return alone()
        const waiting: Waiting<A, R, E> = { entry, done: Deferred.unsafeMake(FiberId.none), abandoned: false }
        queue.push(waiting)
        if (!inFlight) start()
        return Effect.onInterrupt(Deferred.await(waiting.done), () =>
          Effect.sync(() => {
            waiting.abandoned = true
          }))
      })

    return { submit } as const
  })
