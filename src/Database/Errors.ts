import { Effect, Schema } from "effect"
import type { SqlError } from "@effect/sql/SqlError"
import type { ParseError } from "effect/ParseResult"
import { classifyFailure } from "./SqlState.js"

/** PostgreSQL could not be reached or cannot serve right now; surfaced as 503. */
export class DatabaseUnavailable extends Schema.TaggedError<DatabaseUnavailable>()("DatabaseUnavailable", {
  message: Schema.String
}) {
  readonly status = 503 as const
}

/**
 * A write met a unique constraint. It has no status of its own: what a duplicate means
 * (409, 400, "already done") is for the statement's repository to say, see `write`.
 */
export class UniqueViolation extends Schema.TaggedError<UniqueViolation>()("UniqueViolation", {
  constraint: Schema.String
}) {}

/** A write referred to a row that does not exist (or belongs to another tenant). */
export class ForeignKeyViolation extends Schema.TaggedError<ForeignKeyViolation>()("ForeignKeyViolation", {
  constraint: Schema.String
}) {}

/** PostgreSQL refused a value the caller gave (text with NUL, a number out of range, ...): 400. */
export class InvalidInput extends Schema.TaggedError<InvalidInput>()("InvalidInput", {
  message: Schema.String,
  sqlState: Schema.String
}) {
  readonly status = 400 as const
}

export type ConstraintViolation = UniqueViolation | ForeignKeyViolation
export type StatementRefused = ConstraintViolation | InvalidInput

type Typed<E> = Exclude<E, SqlError | ParseError>

const isSqlOrParseError = (error: unknown): error is SqlError | ParseError =>
  typeof error === "object" && error !== null && "_tag" in error &&
  (error._tag === "SqlError" || error._tag === "ParseError")

const describe = (cause: unknown) => cause instanceof Error ? cause.message : String(cause)

/** A refusal where none can happen is our bug: logged, and the request fails as a defect. */
const refusalIsABug = (refusal: StatementRefused) =>
  Effect.logError("SQL statement refused values it should not have been given").pipe(
    Effect.annotateLogs({ refusal: refusal._tag, detail: refusal._tag === "InvalidInput" ? refusal.message : refusal.constraint }),
    Effect.zipRight(Effect.die(refusal))
  )

/**
 * The one place a statement's `SqlError` is read: connection failures and timeouts become
 * `DatabaseUnavailable`, a broken statement dies (logged), and so does a row that does not
 * decode; a refused value or a constraint violation goes to `onRefused`. Errors the
 * statement already had (a domain error raised inside a transaction) pass untouched.
 */
const classified = <A, E, R, A2, E2>(
  self: Effect.Effect<A, E | SqlError | ParseError, R>,
  onRefused: (refusal: StatementRefused) => Effect.Effect<A2, E2>
): Effect.Effect<A | A2, Typed<E> | DatabaseUnavailable | E2, R> =>
  Effect.catchIf(self, isSqlOrParseError, (error): Effect.Effect<A2, DatabaseUnavailable | E2> => {
    if (error._tag === "ParseError") return Effect.die(error)
    const failure = classifyFailure(error.cause)
    switch (failure.kind) {
      case "unavailable":
        return Effect.logWarning("database unavailable").pipe(
          Effect.annotateLogs("cause", describe(error.cause)),
          Effect.zipRight(Effect.fail(new DatabaseUnavailable({ message: "Database unavailable" })))
        )
      case "unique":
        return onRefused(new UniqueViolation({ constraint: failure.constraint }))
      case "foreignKey":
        return onRefused(new ForeignKeyViolation({ constraint: failure.constraint }))
      case "invalid":
        return onRefused(new InvalidInput({ message: `Invalid input: ${failure.reason}`, sqlState: failure.sqlState }))
      case "bug":
        return Effect.logError("SQL statement failed").pipe(
          Effect.annotateLogs({ sql_state: failure.sqlState, cause: describe(error.cause) }),
          Effect.zipRight(Effect.die(error))
        )
    }
  }) as Effect.Effect<A | A2, Typed<E> | DatabaseUnavailable | E2, R>

/**
 * For statements whose values are all ours (generated ids, validated enums, clock
 * readings, keys already looked up): the database being unavailable is the only failure
 * to expect, and a refusal is a bug.
 */
export const orUnavailable = <A, E, R>(
  self: Effect.Effect<A, E | SqlError | ParseError, R>
): Effect.Effect<A, Typed<E> | DatabaseUnavailable, R> => classified(self, refusalIsABug)

/**
 * A read keyed or filtered by values from a request: a value its column cannot even
 * hold (a path id that is not a UUID, text with a NUL byte) matches no row, so the read
 * answers `nothing` (then the caller's 404, or an empty list). Not for reads inside a
 * transaction: PostgreSQL aborts the transaction on the error, so use `orRefused` there.
 */
export const orNothing = <A, E, R>(
  self: Effect.Effect<A, E | SqlError | ParseError, R>,
  nothing: A
): Effect.Effect<A, Typed<E> | DatabaseUnavailable, R> =>
  classified(self, (refusal) => refusal._tag === "InvalidInput" ? Effect.succeed(nothing) : refusalIsABug(refusal))

/** What a violation of each named constraint means, as the domain error to fail with. */
type Meanings = Readonly<Record<string, (violation: ConstraintViolation) => unknown>>

/**
 * A statement given values from a request: a refused value is `InvalidInput` (400), and
 * `meanings` says what a violation of each named constraint means for this statement
 * (`{ agents_tenant_id_agent_key_key: () => new AgentKeyTaken(...) }`). A violation of a
 * constraint not named there is reported as invalid input too, and logged.
 */
export const orRefused = <A, E, R, const M extends Meanings = {}>(
  self: Effect.Effect<A, E | SqlError | ParseError, R>,
  meanings?: M
): Effect.Effect<A, Typed<E> | DatabaseUnavailable | InvalidInput | ReturnType<M[keyof M]>, R> =>
  classified(self, (refusal): Effect.Effect<never, InvalidInput | ReturnType<M[keyof M]>> => {
    if (refusal._tag === "InvalidInput") return Effect.fail(refusal)
    const meaning = meanings?.[refusal.constraint]
    if (meaning !== undefined) return Effect.fail(meaning(refusal) as ReturnType<M[keyof M]>)
    const unique = refusal._tag === "UniqueViolation"
    return Effect.logWarning("constraint violation without a meaning for this statement").pipe(
      Effect.annotateLogs("constraint", refusal.constraint),
      Effect.zipRight(Effect.fail(
        new InvalidInput({
          message: `Invalid input: ${unique ? "it conflicts with an existing record" : "it refers to a record that does not exist"}`,
          sqlState: unique ? "23505" : "23503"
        })
      ))
    )
  })
