import { Effect, Metric, Option, Runtime, Schedule } from "effect"
import { createServer } from "node:http"
import { AppConfig } from "../Config.js"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"
import { flushFrameCounts } from "./CallTelemetry.js"
import { makeGauges } from "./Gauges.js"
import { CONTENT_TYPE, render } from "./OpenMetrics.js"

/**
 * The metrics as Prometheus reads them: `scrape` folds the calls' frame counts in, reads
 * the gauges and renders every Effect metric in OpenMetrics text, each sample labelled
 * with this replica's id (the one in the live-calls ledger). With METRICS_PORT set, a
 * listener of its own serves `GET /metrics` there (not on the public port). When an OTLP
 * endpoint is configured, a timer keeps the same numbers fresh for its exporter.
 */
export class MetricsExport extends Effect.Service<MetricsExport>()("MetricsExport", {
  scoped: Effect.gen(function*() {
    const config = yield* AppConfig
    const replica = (yield* LiveCalls).replicaId
    const gauges = yield* makeGauges

    const scrape = Effect.gen(function*() {
      flushFrameCounts()
      yield* gauges
      return render(yield* Metric.snapshot, [["replica", replica]])
    })

    yield* Effect.forkScoped(Effect.repeat(Effect.sync(flushFrameCounts), Schedule.spaced("5 seconds")))
    // The gauges cost queries: read on a timer only for an OTLP exporter (a scrape reads them itself).
    if (Option.isSome(config.otelExporterOtlpEndpoint)) {
      yield* Effect.forkScoped(Effect.repeat(gauges, Schedule.spaced("15 seconds")))
    }

    const port = Option.getOrUndefined(config.metricsPort)
    if (port !== undefined) {
      const runtime = yield* Effect.runtime<never>()
      const runPromise = Runtime.runPromise(runtime)
      const server = createServer((req, res) => {
        if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
          res.writeHead(404, { "content-type": "text/plain" }).end("Not found")
          return
        }
        runPromise(scrape).then(
          (body) => res.writeHead(200, { "content-type": CONTENT_TYPE }).end(body),
          () => res.writeHead(503, { "content-type": "text/plain" }).end("Metrics unavailable")
        )
      })
      yield* Effect.acquireRelease(
        Effect.async<void, Error>((resume) => {
          server.once("error", (error) => resume(Effect.fail(error)))
          // Exclusive: a cluster worker binds its own port rather than sharing the primary's.
          server.listen({ port, host: config.host, exclusive: true }, () => resume(Effect.void))
        }),
        () => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
      ).pipe(Effect.orDie)
      yield* Effect.logInfo("metrics served").pipe(Effect.annotateLogs({ port: port, path: "/metrics" }))
    }

    return { scrape } as const
  })
}) {}
