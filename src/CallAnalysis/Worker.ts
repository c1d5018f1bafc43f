import { Duration, Effect, Queue, Stream } from "effect"
import { Migrations } from "../Database/Migrations.js"
import { Notifications } from "../Database/Notifications.js"
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
    const notifications = yield* Notifications
    const migrations = yield* Migrations

    const drain = Effect.gen(function*() {
      let attempted = 0
      for (;;) {
        const pass = yield* analysis.runDue(config.batchSize)
        attempted += pass.attempted
        if (pass.attempted < config.batchSize) return attempted
      }
    }).pipe(measureSweep("call_analysis", (attempted: number) => attempted))

    if (config.workerEnabled) {
      const wake = yield* Queue.sliding<void>(1)
      yield* notifications.subscribe(ANALYSIS_CHANNEL).pipe(
        Stream.runForEach(() => Queue.offer(wake, undefined)),
        Effect.forkScoped
      )
      const idle = Effect.race(Queue.take(wake), Effect.sleep(Duration.millis(config.pollIntervalMs)))
      yield* migrations.awaitApplied.pipe(
        Effect.zipRight(Effect.forever(
          drain.pipe(
            Effect.catchAllCause((cause) => Effect.logWarning("post-call analysis pass failed", cause)),
            Effect.zipRight(idle)
          )
        )),
        Effect.forkScoped
      )
    }

    return { drain } as const
  }),
  dependencies: [CallAnalysis.Default, CallAnalysisConfig.Default]
}) {}
