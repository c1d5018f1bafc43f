import { Cause, Deferred, Effect, Exit, Fiber, FiberId, Runtime } from "effect"
import type { TokenUse } from "../Auth/StreamTokens.js"
import type { DatabaseUnavailable } from "../Database/Errors.js"
import type { LiveCall } from "./Domain.js"
import type { Redeeming } from "./Repo.js"

/** Runs one batch statement: `held` per entry, in the entries' order (LiveCallsRepo.insertRedeemingBatch). */
export type RedeemStatement = (entries: ReadonlyArray<Redeeming>) => Effect.Effect<ReadonlyArray<boolean>, DatabaseUnavailable>

/** Entries per statement at most: a burst's queue goes as a few statements, none of them huge. */
export const REDEEM_BATCH_CAP = 128

/** A stream start waiting for its batch: its own answer comes through `done`. */
interface Waiting {
  readonly entry: Redeeming
  readonly done: Deferred.Deferred<boolean, DatabaseUnavailable>
  /** Its caller stopped waiting before it was sent: it is not sent (its retry, if any, queues anew). */
  abandoned: boolean
}

const keyOf = (call: LiveCall) => `${call.tenantId}\u0000${call.streamSid}`

/**
 * Group commit for the stream starts' token spend and ledger row: a start is sent at once as a
 * batch of one when no batch statement is in flight; while one is, starts queue, and when it
 * completes the queued ones (up to `cap`) go as the next statement. One statement and one WAL
 * flush per batch instead of per call, with no added wait: a start waits at most for the
 * statement in flight, which it would otherwise have queued behind on the database's WAL flush.
 * Each caller gets its own answer, or the batch's error: the error a start of its own got
 * (DatabaseUnavailable, or a defect), so retries and refusals are unchanged.
 *
 * Two starts with the same token id (or the same stream) never share a statement: the later
 * waits for the next one, so which start spent a token is never ambiguous. A statement that dies
 * (a value PostgreSQL refused) is run again entry by entry, so one bad start fails only itself.
 * On the layer's close what is queued is still sent; a start after that runs alone.
 */
export const makeRedeemBatches = (statement: RedeemStatement, cap: number = REDEEM_BATCH_CAP) =>
  Effect.gen(function*() {
    // The batches run on fibers of their own (of the layer's runtime): no caller's interruption stops one.
    const fork = Runtime.runFork(yield* Effect.runtime<never>())
    let queue: Array<Waiting> = []
    let inFlight = false
    let runner: Fiber.RuntimeFiber<void> | undefined
    let closed = false

    /** The next batch, in arrival order: later duplicates of a token or a stream stay queued. */
    const take = (): Array<Waiting> => {
      if (queue.length <= 1) {
        const batch = queue.filter((waiting) => !waiting.abandoned)
        queue = []
        return batch
      }
      const batch: Array<Waiting> = []
      const later: Array<Waiting> = []
      const tokens = new Set<string>()
      const streams = new Set<string>()
      for (const waiting of queue) {
        if (waiting.abandoned) continue
        const token = waiting.entry.use.tokenId
        const stream = keyOf(waiting.entry.call)
        if (batch.length >= cap || tokens.has(token) || streams.has(stream)) {
          later.push(waiting)
        } else {
          batch.push(waiting)
          tokens.add(token)
          streams.add(stream)
        }
      }
      queue = later
      return batch
    }

    const answer = (waiting: Waiting, exit: Exit.Exit<ReadonlyArray<boolean>, DatabaseUnavailable>, index: number) =>
      Deferred.unsafeDone(waiting.done, Exit.map(exit, (held) => held[index] === true))

    /** One statement for the batch; if it died with more than one entry, one statement per entry. */
    const send = (batch: ReadonlyArray<Waiting>): Effect.Effect<void> =>
      Effect.flatMap(Effect.exit(statement(batch.map((waiting) => waiting.entry))), (exit) => {
        if (Exit.isSuccess(exit) || batch.length === 1 || !Cause.isDie(exit.cause)) {
          for (let i = 0; i < batch.length; i++) answer(batch[i]!, exit, i)
          return Effect.void
        }
        return Effect.forEach(batch, (waiting) => send([waiting]), { discard: true })
      })

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

    /** Spends `use` and holds `call` (LiveCallsRepo.insertRedeemingBatch): false when the token was used before. */
    const redeem = (call: LiveCall, use: TokenUse): Effect.Effect<boolean, DatabaseUnavailable> =>
      Effect.suspend(() => {
        if (closed) return Effect.map(statement([{ call, use }]), (held) => held[0] === true)
        const waiting: Waiting = { entry: { call, use }, done: Deferred.unsafeMake(FiberId.none), abandoned: false }
        queue.push(waiting)
        if (!inFlight) start()
        return Effect.onInterrupt(Deferred.await(waiting.done), () =>
          Effect.sync(() => {
            waiting.abandoned = true
          }))
      })

    return { redeem } as const
  })
