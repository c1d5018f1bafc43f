import { Cause, Deferred, Effect, Exit } from "effect"
import type { TokenUse } from "../Auth/StreamTokens.js"
import type { DatabaseUnavailable } from "../Database/Errors.js"
import { makeGroupCommit, type Waiting as GroupWaiting } from "../Database/GroupCommit.js"
import type { LiveCall } from "./Domain.js"
import type { Redeeming } from "./Repo.js"

/** Runs one batch statement: `held` per entry, in the entries' order (LiveCallsRepo.insertRedeemingBatch). */
export type RedeemStatement = (entries: ReadonlyArray<Redeeming>) => Effect.Effect<ReadonlyArray<boolean>, DatabaseUnavailable>

/** Entries per statement at most: a burst's queue goes as a few statements, none of them huge. */
export const REDEEM_BATCH_CAP = 128

type Waiting = GroupWaiting<Redeeming, boolean, DatabaseUnavailable>

// A token id and a stream: neither may appear twice in one statement.
const keysOf = ({ call, use }: Redeeming) => [`t\u0000${use.tokenId}`, `s\u0000${call.tenantId}\u0000${call.streamSid}`]

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

    const { submit } = yield* makeGroupCommit({ send, keysOf, cap })

    /** Spends `use` and holds `call` (LiveCallsRepo.insertRedeemingBatch): false when the token was used before. */
    const redeem = (call: LiveCall, use: TokenUse): Effect.Effect<boolean, DatabaseUnavailable> => {
      const entry: Redeeming = { call, use }
      return submit(entry, () => Effect.map(statement([entry]), (held) => held[0] === true))
    }

    return { redeem } as const
  })
