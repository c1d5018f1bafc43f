import { Cause, Deferred, Effect, Exit, Option } from "effect"
import type { DatabaseUnavailable } from "../Database/Errors.js"
import { makeGroupCommit, type Waiting as GroupWaiting } from "../Database/GroupCommit.js"

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

/** A record's compiled statement (to share) and how it runs alone. */
interface Entry<A, E> {
  readonly statement: A
  readonly queued: Queued<E>
}

const keysOf = <A, E>(entry: Entry<A, E>) => entry.queued.keys

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
    type Waiting = GroupWaiting<Entry<A, E>, boolean, E | DatabaseUnavailable>

    const alone = (waiting: Waiting) =>
      Effect.flatMap(Effect.exit(waiting.entry.queued.alone), (exit) => Deferred.done(waiting.done, exit))

    /** One statement for the batch; alone for one record, or record by record when it was refused. */
    const send = (batch: ReadonlyArray<Waiting>): Effect.Effect<void> => {
      if (batch.length === 1) return alone(batch[0]!)
      return Effect.flatMap(Effect.exit(shared(batch.map((waiting) => waiting.entry.statement))), (exit) => {
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

    const { submit } = yield* makeGroupCommit({ send, keysOf, cap })

    /** Records `statement` (alone or shared): true when this wrote the record. */
    const record = (statement: A, queued: Queued<E>): Effect.Effect<boolean, E | DatabaseUnavailable> =>
      submit({ statement, queued }, () => queued.alone)

    return { record } as const
  })
