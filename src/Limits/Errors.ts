import { Schema } from "effect"

/** Why a limit refused work; the metric label and the supervisor log's reason. */
export const REFUSAL_REASONS = [
  "destination_not_allowed",
  "premium_destination",
  "satellite_destination",
  "tenant_concurrency",
  "replica_concurrency",
  "velocity_per_minute",
  "velocity_per_day",
  "budget_exhausted"
] as const
export type RefusalReason = typeof REFUSAL_REASONS[number]

/** A destination refusal is the caller's to fix (403); the rest clear with time (429). */
export const statusOf = (reason: RefusalReason): 403 | 429 =>
  reason === "destination_not_allowed" || reason === "premium_destination" || reason === "satellite_destination"
    ? 403
    : 429

/** A cost/abuse limit refused the work: nothing was dialled or sent. */
export class LimitRefused extends Schema.TaggedError<LimitRefused>()("LimitRefused", {
  reason: Schema.Literal(...REFUSAL_REASONS),
  status: Schema.Literal(403, 429),
  message: Schema.String
}) {}

export const refused = (reason: RefusalReason, message: string) =>
  new LimitRefused({ reason, status: statusOf(reason), message })
