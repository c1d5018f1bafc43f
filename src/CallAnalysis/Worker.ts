import { Effect } from "effect"
import { runOnWake } from "../Database/WakeLoop.js"
import { measureSweep } from "../Observability/Metrics.js"
import { ANALYSIS_CHANNEL } from "./AnalysisJobs.js"
import { CallAnalysis } from "./CallAnalysis.js"
import { CallAnalysisConfig } from "./Config.js"

/**
 * The analysis worker of a replica: a scoped fiber, off every call's fiber, that drains due
 * jobs, then sleeps until a NOTIFY from a commit that enqueued one, or the poll interval
 * (retries coming due, leases of a replica that died). Every replica may run one.
 */
export class CallAnalysisWorker extends Effect.Service<CallAnalysisWorker>()("CallAnalysisWorker", {
  scoped: Effect.gen(function*() {
    const config = yield* CallAnalysisConfig
    const analysis = yield* CallAnalysis

    const drain = Effect.gen(function*() {
      let attempted = 0
      for (;;) {
        const pass = yield* analysis.runDue(config.batchSize)
        attempted += pass.attempted
        if (pass.attempted < config.batchSize) return attempted
      }
    }).pipe(measureSweep("call_analysis", (attempted: number) => attempted))

    if (config.workerEnabled) {
      yield* runOnWake({ channel: ANALYSIS_CHANNEL, pollIntervalMs: config.pollIntervalMs, pass: drain, failure: "post-call analysis pass failed" })
    }

    return { drain } as const
  }),
  dependencies: [CallAnalysis.Default, CallAnalysisConfig.Default]
}) {}
