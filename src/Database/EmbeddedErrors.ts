import { Data } from "effect"

/** The embedded PostgreSQL could not be started; `message` says what to do instead. */
export class EmbeddedPostgresError extends Data.TaggedError("EmbeddedPostgresError")<{
  readonly message: string
  readonly cause?: unknown
}> {}
