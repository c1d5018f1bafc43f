import { Effect } from "effect"
import { atLeast } from "../ConfigIntegers.js"

/** Seconds, 0 or more. */
const seconds = (name: string, fallback: number) => atLeast(name, fallback, 0)

/** Settings of operator queues, callback tasks and their sweeps (an interval of 0 turns a sweep off). */
export class OperationsConfig extends Effect.Service<OperationsConfig>()("OperationsConfig", {
  effect: Effect.gen(function*() {
    return {
      /** SLA of the default queue a tenant gets on first use. */
      defaultSlaSeconds: yield* seconds("OPERATOR_DEFAULT_SLA_SECONDS", 3600),
      slaSweepIntervalSecs: yield* seconds("OPERATOR_SLA_SWEEP_INTERVAL_SECS", 60),
      followUpSweepIntervalSecs: yield* seconds("OPERATOR_FOLLOW_UP_SWEEP_INTERVAL_SECS", 60),
      dispatchSweepIntervalSecs: yield* seconds("OPERATOR_DISPATCH_SWEEP_INTERVAL_SECS", 60),
      reconciliationSweepIntervalSecs: yield* seconds("OPERATOR_RECONCILIATION_SWEEP_INTERVAL_SECS", 300)
    } as const
  })
}) {}
