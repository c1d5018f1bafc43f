import { Cause, Deferred, Effect, Exit, Fiber, FiberId, Option, Runtime } from "effect"
import type { DatabaseUnavailable } from "../Database/Errors.js"

/** Records per shared statement at most: a burst's ends go as a few statements of bounded size. */
export const RECORD_BATCH_CAP = 16

/** A record to send: `keys` (its stream, its call) never share a statement with another record's. */
export interface Queued<E> {
  readonly keys: ReadonlyArray<string>
  /** The record alone: what it ran as before there were batches (and what a split batch runs). */
  readonly alone: Effect.Effect<boolean, E>
}

/** Why a shared statement gave no answers: PostgreSQL out of reach, or the statement refused (split it). */
export type BatchFailure = DatabaseUnavailable | { readonly _tag: "SplitBatch" }

/** Runs the records of a batch (2 or more) as one statement: `written` per record, in order. */
export type SharedStatement<A> = (entries: ReadonlyArray<A>) => Effect.Effect<ReadonlyArray<boolean>, BatchFailure>

interface Waiting<A, E> {
  readonly entry: A
  readonly queued: Queued<E>
  readonly done: Deferred.Deferred<boolean, E | DatabaseUnavailable>
  /** Its caller stopped waiting before it was sent: it is not sent (its retry, if any, queues anew). */
  abandoned: boolean
}

/**
 * Group commit for calls' records (CallRecords.recordCompletedCall): a record is sent at once,
 * alone, when no statement of the batcher is in flight; records that end meanwhile queue, and
 * when it completes the queued ones (up to `cap`) go as the next statement. One statement, one
 * round trip and one commit per batch instead of per call, and no added wait: a record waits at
 * most for the statement in flight.
 *
 * Exactly once is the record's own: its conflict keys write nothing for a stream recorded before,
 * so a batch that failed (or whose answer was lost) and is retried writes nothing twice. Two
 * records of one stream or one call never share a statement (the later goes in the next one):
 * an upsert must not meet its own command's row. A shared statement that fails for anything but
 * an unreachable database is run again record by record, as each ran before, so one refused
 * record fails alone with its own error. Unreachable: every record of the batch gets
 * DatabaseUnavailable (its caller retries). On the layer's close what is queued is still sent; a
 * record after that runs alone.
 */
export const makeRecordBatches = <A, E>(shared: SharedStatement<A>, cap: number = RECORD_BATCH_CAP) =>
  Effect.gen(function*() {
    // The batches run on fibers of their own (of the layer's runtime): no caller's interruption stops one.
    const fork = Runtime.runFork(yield* Effect.runtime<never>())
    let queue: Array<Waiting<A, E>> = []
    let inFlight = false
    let runner: Fiber.RuntimeFiber<void> | undefined
    let closed = false

    /** The next batch, in arrival order: a later record of a stream or call already in it stays queued. */
    const take = (): Array<Waiting<A, E>> => {
      if (queue.length <= 1) {
        const batch = queue.filter((waiting) => !waiting.abandoned)
        queue = []
        return batch
      }
      const batch: Array<Waiting<A, E>> = []
      const later: Array<Waiting<A, E>> = []
      const keys = new Set<string>()
      for (const waiting of queue) {
        if (waiting.abandoned) continue
        if (batch.length >= cap || waiting.queued.keys.some((key) => keys.has(key))) {
          later.push(waiting)
        } else {
          batch.push(waiting)
          for (const key of waiting.queued.keys) keys.add(key)
        }
      }
      queue = later
      return batch
    }

    const alone = (waiting: Waiting<A, E>) =>
      Effect.flatMap(Effect.exit(waiting.queued.alone), (exit) => Deferred.done(waiting.done, exit))

    /** One statement for the batch; alone for one record, or record by record when it was refused. */
    const send = (batch: ReadonlyArray<Waiting<A, E>>): Effect.Effect<void> => {
      if (batch.length === 1) return alone(batch[0]!)
      return Effect.flatMap(Effect.exit(shared(batch.map((waiting) => waiting.entry))), (exit) => {
        if (Exit.isSuccess(exit)) {
          for (let i = 0; i < batch.length; i++) Deferred.unsafeDone(batch[i]!.done, Exit.succeed(exit.value[i] === true))
          return Effect.void
        }
        const failure = Cause.failureOption(exit.cause)
        if (Option.isSome(failure) && failure.value._tag === "DatabaseUnavailable") {
          const unavailable = failure.value
          for (const waiting of batch) Deferred.unsafeDone(waiting.done, Exit.fail(unavailable))
          return Effect.void
        }
        return Effect.forEach(batch, alone, { discard: true })
      })
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

    /** Records `entry` (its statement alone or shared): true when this wrote the record. */
    const record = (entry: A, queued: Queued<E>): Effect.Effect<boolean, E | DatabaseUnavailable> =>
      Effect.suspend(() => {
        if (closed) return queued.alone
        const waiting: Waiting<A, E> = { entry, queued, done: Deferred.unsafeMake(FiberId.none), abandoned: false }
        queue.push(waiting)
        if (!inFlight) start()
        return Effect.onInterrupt(Deferred.await(waiting.done), () =>
          Effect.sync(() => {
            waiting.abandoned = true
          }))
      })

    return { record } as const
  })
