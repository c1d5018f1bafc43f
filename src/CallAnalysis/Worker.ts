import { Clock, Effect } from "effect"
import { runOnWake } from "../Database/WakeLoop.js"
import { SetupLoad } from "../Limits/SetupLoad.js"
import { measureSweep } from "../Observability/Metrics.js"
import { ANALYSIS_CHANNEL } from "./AnalysisJobs.js"
import { CallAnalysis } from "./CallAnalysis.js"
import { CallAnalysisConfig } from "./Config.js"

/**
 * A burst is still going while a set-up ended this recently: at 50 calls a second set-ups start
 * 20 ms apart, and a batch of analyses started between two would take the cores from the next.
 */
export const SETUP_QUIET_MS = 100

/** How often a holding worker looks again (a timer, no statement). */
const HOLD_CHECK_MS = 25

/**
 * The analysis worker of a replica: a scoped fiber, off every call's fiber, that drains due
 * jobs, then sleeps until a NOTIFY from a commit that enqueued one, or the poll interval
 * (retries coming due, leases of a replica that died). Every replica may run one. Before each
 * batch it waits while this replica is setting up calls (SetupLoad), up to
 * ANALYSIS_SETUP_HOLD_MAX_MS: analysis is deferred work, and a caller waiting in silence is not.
 */
export class CallAnalysisWorker extends Effect.Service<CallAnalysisWorker>()("CallAnalysisWorker", {
  scoped: Effect.gen(function*() {
    const config = yield* CallAnalysisConfig
    const analysis = yield* CallAnalysis
    const setupLoad = yield* SetupLoad

    /** Returns once set-ups have been quiet for SETUP_QUIET_MS, or after the bound; claims nothing meanwhile. */
    const holdForSetups = Effect.gen(function*() {
      if (config.setupHoldMaxMs === 0 || setupLoad.quietMs() >= SETUP_QUIET_MS) return
      const until = (yield* Clock.currentTimeMillis) + config.setupHoldMaxMs
      for (;;) {
        const left = until - (yield* Clock.currentTimeMillis)
        if (left <= 0 || setupLoad.quietMs() >= SETUP_QUIET_MS) return
        yield* Effect.sleep(Math.min(left, HOLD_CHECK_MS))
      }
    })

    const drain = Effect.gen(function*() {
      let attempted = 0
      for (;;) {
        const pass = yield* analysis.runDue(config.batchSize)
        attempted += pass.attempted
        if (pass.attempted < config.batchSize) return attempted
        yield* holdForSetups
      }
    }).pipe(measureSweep("call_analysis", (attempted: number) => attempted))

    if (config.workerEnabled) {
      yield* runOnWake({
        channel: ANALYSIS_CHANNEL,
        pollIntervalMs: config.pollIntervalMs,
        pass: Effect.zipRight(holdForSetups, drain),
        failure: "post-call analysis pass failed"
      })
    }

    return { drain } as const
  }),
  dependencies: [CallAnalysis.Default, CallAnalysisConfig.Default, SetupLoad.Default]
}) {}
