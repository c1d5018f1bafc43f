import { Effect, Schedule } from "effect"

/**
 * How a write the service owns (a call's record, its ledger row) is retried while
 * PostgreSQL blinks: quickly at first, then every 2 s, for `budget` in all.
 */
export const untilWritten = (budget: `${number} seconds`) =>
  Schedule.exponential("100 millis").pipe(Schedule.union(Schedule.spaced("2 seconds")), Schedule.upTo(budget))

/**
 * `self` retried on any failure, defects included: a connection killed mid-transaction
 * surfaces as a defect when its ROLLBACK fails too, and is as retryable as any outage.
 */
export const retryingWrite = <A, E, R>(self: Effect.Effect<A, E, R>, budget: `${number} seconds`) =>
  self.pipe(Effect.sandbox, Effect.retry(untilWritten(budget)), Effect.unsandbox)

const isUnavailable = (error: unknown): boolean =>
  typeof error === "object" && error !== null && "_tag" in error && error._tag === "DatabaseUnavailable"

/** A read retried while PostgreSQL is unavailable (other failures pass at once), for `budget` in all. */
export const retryingRead = <A, E, R>(self: Effect.Effect<A, E, R>, budget: `${number} seconds`) =>
  Effect.retry(self, { schedule: untilWritten(budget), while: isUnavailable })
