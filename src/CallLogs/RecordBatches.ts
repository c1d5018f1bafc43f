import * as SqlClient from "@effect/sql/SqlClient"
import { Cause, Deferred, Effect, Exit, Option } from "effect"
import { DatabaseUnavailable } from "../Database/Errors.js"
import { makeGroupCommit, type Waiting as GroupWaiting } from "../Database/GroupCommit.js"
import { makeExecuteText } from "../Database/HotStatement.js"
import { makeSharedStatements, type Shareable, shareable } from "../Database/SharedStatement.js"
import { classifyFailure } from "../Database/SqlState.js"

/** Records per shared statement at most: a burst's ends go as a few statements of bounded size. */
export const RECORD_BATCH_CAP = 16

/** Prepared names for the shared statements' texts (one per batch size and mix of record shapes). */
const SHARED_NAMES = 16

/** A record to send: its compiled statement, what it never shares a statement with, and itself alone. */
interface Entry<E> {
  readonly statement: Shareable
  /** Its stream and its call: another record with one of them waits for the next statement. */
  readonly keys: ReadonlyArray<string>
  /** The record alone: what it ran as before there were batches (and what a split batch runs). */
  readonly alone: Effect.Effect<boolean, E>
}

const keysOf = <E>(entry: Entry<E>) => entry.keys

/** The shared statement was refused for something other than an unreachable database: split it. */
const SPLIT = { _tag: "SplitBatch" } as const

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
 * record after that runs alone. A record inside a transaction (the reaper's, which holds the
 * ledger rows it claimed) is the transaction's: it runs alone on that connection.
 */
export const makeRecordBatches = <E>(sql: SqlClient.SqlClient, cap: number = RECORD_BATCH_CAP) =>
  Effect.gen(function*() {
    type Waiting = GroupWaiting<Entry<E>, boolean, E | DatabaseUnavailable>
    const combine = makeSharedStatements()
    const execute = (yield* makeExecuteText(sql, SHARED_NAMES)).prepared

    /** The records (2 or more) as one statement: `written` per record, in order. */
    const shared = (statements: ReadonlyArray<Shareable>) => {
      const [text, params] = combine(statements)
      return Effect.catchAll(execute<{ slot: number; written: boolean }>(text, params), (error) =>
        Effect.fail(
          classifyFailure(error.cause).kind === "unavailable" ? new DatabaseUnavailable({ message: "Database unavailable" }) : SPLIT
        )).pipe(Effect.map((rows) => {
          const written = new Array<boolean>(statements.length).fill(false)
          for (const row of rows) written[row.slot] = row.written === true
          return written
        }))
    }

    const alone = (waiting: Waiting) =>
      Effect.flatMap(Effect.exit(waiting.entry.alone), (exit) => Deferred.done(waiting.done, exit))

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
    const record = (
      statement: Shareable,
      keys: ReadonlyArray<string>,
      alone: Effect.Effect<boolean, E>
    ): Effect.Effect<boolean, E | DatabaseUnavailable> =>
      Effect.flatMap(Effect.serviceOption(SqlClient.TransactionConnection), (transaction) =>
        Option.isSome(transaction) || !shareable(statement.text, statement.selectAt)
          ? alone
          : submit({ statement, keys, alone }, () => alone))

    return { record } as const
  })
