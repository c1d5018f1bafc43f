import { Effect, Schema } from "effect"
import type { SqlError } from "@effect/sql/SqlError"
import type { ParseError } from "effect/ParseResult"

/** PostgreSQL could not be reached or refused the statement; surfaced as 503. */
export class DatabaseUnavailable extends Schema.TaggedError<DatabaseUnavailable>()("DatabaseUnavailable", {
  message: Schema.String
}) {
  readonly status = 503 as const
}

/**
 * Repository boundary: a SQL failure becomes `DatabaseUnavailable` (logged with its cause),
 * a row that does not decode is a bug and dies.
 */
export const orUnavailable = <A, E, R>(
  self: Effect.Effect<A, E | SqlError | ParseError, R>
): Effect.Effect<A, Exclude<E, SqlError | ParseError> | DatabaseUnavailable, R> =>
  Effect.catchIf(
    self,
    (error): error is SqlError | ParseError =>
      typeof error === "object" && error !== null && "_tag" in error &&
      (error._tag === "SqlError" || error._tag === "ParseError"),
    (error) =>
      error._tag === "ParseError"
        ? Effect.die(error)
        : Effect.logWarning("database error").pipe(
          Effect.annotateLogs("cause", error.cause instanceof Error ? error.cause.message : String(error.cause)),
          Effect.zipRight(Effect.fail(new DatabaseUnavailable({ message: "Database unavailable" })))
        )
  ) as Effect.Effect<A, Exclude<E, SqlError | ParseError> | DatabaseUnavailable, R>
