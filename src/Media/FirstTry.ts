import { Effect } from "effect"
import { retryingRead, retryingWrite } from "../Database/Retry.js"

/**
 * `retryingRead`/`retryingWrite` for the per-call path: the first attempt runs bare and the
 * retry loop (a schedule driver, its fiber refs and state: dozens of runtime operations) is
 * only built once it has failed. Same budget and retried failures; the first retry follows
 * the failure at once instead of after 100 ms.
 */
export const readFirst = <A, E, R>(self: Effect.Effect<A, E, R>, budget: `${number} seconds`) =>
  Effect.catchIf(self, isUnavailable, () => retryingRead(self, budget))

export const writeFirst = <A, E, R>(self: Effect.Effect<A, E, R>, budget: `${number} seconds`) =>
  Effect.catchAllCause(self, () => retryingWrite(self, budget))

const isUnavailable = (error: unknown): boolean =>
  typeof error === "object" && error !== null && "_tag" in error && error._tag === "DatabaseUnavailable"
