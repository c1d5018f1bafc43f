import { Clock, Duration, Effect, Option, Schedule, Schema } from "effect"
import { createHash } from "node:crypto"
import { orUnavailable } from "../Database/Errors.js"
import { IdempotencyRepo } from "./IdempotencyRepo.js"

/** How long a key is remembered (then the same key dials again). */
export const KEY_TTL = Duration.hours(24)
/** How long a duplicate waits for the first request (dialling Twilio) to answer. */
const WAIT_FOR_FIRST = Duration.seconds(15)
export const MAX_KEY_LENGTH = 255

/** The same key was used for another request body, or its first request is still running. */
export class IdempotencyConflict extends Schema.TaggedError<IdempotencyConflict>()("IdempotencyConflict", {
  message: Schema.String
}) {}

/** A stable digest of the request as decoded (key order fixed by the caller's object). */
export const requestHash = (request: unknown): string =>
  createHash("sha256").update(JSON.stringify(request)).digest("hex")

export const OUTCOME_UNKNOWN =
  "The first attempt with this Idempotency-Key timed out and its outcome is unknown (the call may have been placed); " +
  "check call logs before retrying with a new key"

class StillRunning extends Schema.TaggedError<StillRunning>()("StillRunning", {}) {}

/**
 * `Idempotency-Key` for make-call: the first request with a key (per tenant) does the work
 * and its answer is stored; a retry (even a concurrent one) gets that answer and never
 * dials. A failed first request releases the key (no call exists), so a retry dials again,
 * unless its outcome is unknown (Twilio timed out: a call may exist): then the key is kept
 * and every retry answers 409 until it expires.
 */
export class Idempotency extends Effect.Service<Idempotency>()("Idempotency", {
  effect: Effect.gen(function*() {
    const repo = yield* IdempotencyRepo

    const answerOf = <A>(tenantId: string, key: string, hash: string, decode: (stored: unknown) => Option.Option<A>) =>
      orUnavailable(repo.find(tenantId, key)).pipe(
        Effect.flatMap(Option.match({
          // Released by a failed first request meanwhile: the caller may try to take it again.
          onNone: () => Effect.succeed(Option.none<A>()),
          onSome: (row): Effect.Effect<Option.Option<A>, IdempotencyConflict | StillRunning> => {
            if (row.request_hash !== hash) {
              return Effect.fail(
                new IdempotencyConflict({
                  message: "Idempotency-Key was already used with a different request body; use a new key"
                })
              )
            }
            if (row.outcome_unknown) return Effect.fail(new IdempotencyConflict({ message: OUTCOME_UNKNOWN }))
            if (row.response === null) return Effect.fail(new StillRunning())
            return Effect.succeed(decode(row.response))
          }
        }))
      )

    /**
     * Runs `work` once per (tenant, key): its result is stored with `encode` and replayed
     * with `decode` (a stored answer that no longer decodes is re-run, never a 500).
     */
    const once = <A, E, R>(
      tenantId: string,
      key: string,
      request: unknown,
      work: Effect.Effect<A, E, R>,
      encode: (a: A) => unknown,
      decode: (stored: unknown) => Option.Option<A>,
      /** A failure after which the work may have happened all the same (the key is kept, not released). */
      outcomeUnknown: (error: E) => boolean = () => false
    ) =>
      Effect.gen(function*() {
        const hash = requestHash(request)
        for (let attempt = 0; attempt < 3; attempt++) {
          const now = yield* Clock.currentTimeMillis
          const claimed = yield* orUnavailable(
            repo.claim(tenantId, key, hash, new Date(now), new Date(now - Duration.toMillis(KEY_TTL)))
          )
          if (claimed) {
            yield* orUnavailable(repo.forgetExpired(tenantId, new Date(now - Duration.toMillis(KEY_TTL)))).pipe(Effect.ignoreLogged)
            // Uninterruptible: a client that hangs up mid-dial (its retry is the point of the key)
            // must still find the answer stored. The dial itself is bounded by Twilio's timeout.
            return yield* work.pipe(
              Effect.tap((answer) => orUnavailable(repo.complete(tenantId, key, encode(answer))).pipe(Effect.ignoreLogged)),
              Effect.tapError((error) =>
                orUnavailable(outcomeUnknown(error) ? repo.markUnknown(tenantId, key) : repo.release(tenantId, key)).pipe(
                  Effect.ignoreLogged
                )
              ),
              Effect.uninterruptible
            )
          }
          const stored = yield* answerOf(tenantId, key, hash, decode).pipe(
            Effect.retry({ while: (e) => e._tag === "StillRunning", schedule: Schedule.spaced("100 millis") }),
            Effect.timeoutFail({
              duration: WAIT_FOR_FIRST,
              onTimeout: () => new StillRunning()
            }),
            Effect.catchTag("StillRunning", () =>
              Effect.fail(
                new IdempotencyConflict({ message: "A request with this Idempotency-Key is still in progress; retry later" })
              ))
          )
          if (Option.isSome(stored)) return stored.value
        }
        return yield* new IdempotencyConflict({ message: "A request with this Idempotency-Key is still in progress; retry later" })
      })

    return { once } as const
  }),
  dependencies: [IdempotencyRepo.Default]
}) {}
