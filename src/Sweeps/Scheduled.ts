import { Duration, Effect, Layer, Schedule } from "effect"
import { Migrations } from "../Database/Migrations.js"
import { OperationsConfig } from "../OperatorQueues/Config.js"
import { DispatchSweep } from "./DispatchSweep.js"
import { FollowUpSweep } from "./FollowUpSweep.js"
import { ReconciliationSweep } from "./ReconciliationSweep.js"
import { SlaSweep } from "./SlaSweep.js"

/** Tasks a scheduled run handles at most; the rest wait for the next run. */
const SCHEDULED_LIMIT = 500

/**
 * Every replica runs each sweep on its interval (0 = off); the per-task claims make two
 * replicas running at once safe. A failed run is logged and the schedule goes on.
 */
export const OperatorSweepsScheduled = Layer.scopedDiscard(Effect.gen(function*() {
  const config = yield* OperationsConfig
  const migrations = yield* Migrations
  const sla = yield* SlaSweep
  const followUp = yield* FollowUpSweep
  const dispatch = yield* DispatchSweep
  const reconcile = yield* ReconciliationSweep
  const options = { limit: SCHEDULED_LIMIT, emitWebhooks: true, authToken: null }

  /** A run that handled or failed something is logged with its counts; an idle run is not. */
  const logged = (name: string) => (result: { readonly items: ReadonlyArray<unknown>; readonly failures: ReadonlyArray<unknown> }) =>
    result.items.length === 0 && result.failures.length === 0
      ? Effect.void
      : Effect.logInfo(`${name} sweep`).pipe(Effect.annotateLogs({ items: result.items.length, failures: result.failures.length }))

  const every = <A extends Parameters<ReturnType<typeof logged>>[0], E>(name: string, seconds: number, run: Effect.Effect<A, E>) =>
    seconds <= 0 ? Effect.void : migrations.awaitApplied.pipe(
      Effect.zipRight(Effect.repeat(
        run.pipe(Effect.tap(logged(name)), Effect.catchAllCause((cause) => Effect.logWarning(`${name} sweep failed`, cause))),
        Schedule.spaced(Duration.seconds(seconds))
      )),
      Effect.forkScoped,
      Effect.asVoid
    )

  yield* every("operator SLA", config.slaSweepIntervalSecs, sla.sweep(options))
  yield* every("operator follow-up", config.followUpSweepIntervalSecs, followUp.sweep({ ...options, sendNotifications: true }))
  yield* every("operator dispatch", config.dispatchSweepIntervalSecs, dispatch.sweep({ ...options, dryRun: false }))
  yield* every("operator reconciliation", config.reconciliationSweepIntervalSecs, reconcile.sweep(options))
}))
