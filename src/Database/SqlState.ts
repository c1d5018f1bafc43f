import pg from "pg"

/**
 * What a failed statement means, read from the SQLSTATE PostgreSQL answered with
 * (https://www.postgresql.org/docs/current/errcodes-appendix.html) or, when the server
 * never answered, from the driver's own error.
 */
export type StatementFailure =
  /** The database cannot serve right now (connection, resources, shutdown, conflicts worth retrying). */
  | { readonly kind: "unavailable" }
  | { readonly kind: "unique"; readonly constraint: string }
  | { readonly kind: "foreignKey"; readonly constraint: string }
  /** A value the statement was given cannot be stored or compared (class 22, other integrity rules, limits). */
  | { readonly kind: "invalid"; readonly sqlState: string; readonly reason: string }
  /** The statement itself is wrong (syntax, missing column, transaction misuse): our bug. */
  | { readonly kind: "bug"; readonly sqlState: string }

/** SQLSTATE classes where waiting (or retrying) is the answer, not changing the request. */
const UNAVAILABLE_CLASSES = new Set([
  "08", // connection exception
  "40", // transaction rollback: serialization failure, deadlock
  "53", // insufficient resources
  "57", // operator intervention: shutdown, crash, cannot connect now, statement timeout
  "58", // system error (I/O)
  "XX" // internal error
])

const UNAVAILABLE_STATES = new Set([
  "25P03", // idle_in_transaction_session_timeout
  "25P04", // transaction_timeout
  "28000", // invalid_authorization_specification
  "28P01", // invalid_password
  "3D000", // invalid_catalog_name: the database is not there
  "42P01", // undefined_table: the migrations have not been applied yet
  "55006", // object_in_use
  "55P03" // lock_not_available
])

const reasonFor = (error: pg.DatabaseError, sqlState: string): string => {
  switch (sqlState) {
    case "22021": // character_not_in_repertoire: what PostgreSQL says about a NUL byte in text
    case "22P05": // untranslatable_character: \u0000 in JSON
      return "text must not contain NUL (\\u0000) characters"
    case "23502":
      return `${error.column ?? "a value"} is required`
    case "23514":
    case "23P01":
      return `a value breaks the rule ${error.constraint ?? "of this record"}`
    default:
      return sqlState.startsWith("54") ? "a value is too large" : error.message
  }
}

/** Classifies the `cause` of an `SqlError` (a pg `DatabaseError`, a socket error, a pool timeout...). */
export const classifyFailure = (cause: unknown): StatementFailure => {
  // Without a SQLSTATE the statement never got an answer: the connection failed
  // (ECONNREFUSED, ECONNRESET, "Connection terminated", pool connect timeout...).
  if (!(cause instanceof pg.DatabaseError) || cause.code === undefined) return { kind: "unavailable" }
  const sqlState = cause.code
  const errorClass = sqlState.slice(0, 2)
  if (UNAVAILABLE_CLASSES.has(errorClass) || UNAVAILABLE_STATES.has(sqlState)) return { kind: "unavailable" }
  if (sqlState === "23505") return { kind: "unique", constraint: cause.constraint ?? "" }
  if (sqlState === "23503") return { kind: "foreignKey", constraint: cause.constraint ?? "" }
  // Data exceptions, the other integrity rules (not null, check, exclusion) and program
  // limits (an index row too large for a huge value) are all caused by the values given.
  if (errorClass === "22" || errorClass === "23" || errorClass === "54") {
    return { kind: "invalid", sqlState, reason: reasonFor(cause, sqlState) }
  }
  return { kind: "bug", sqlState }
}
