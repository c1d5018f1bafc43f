import * as NodeServer from "./Http/NodeServer.js"
import { Effect, Layer } from "effect"
import cluster from "node:cluster"
import { createServer } from "node:http"
import { fileURLToPath } from "node:url"
import { runPrimary } from "./Cluster/Primary.js"
import { AppConfig, describeConfigError } from "./Config.js"
import { runMainWithDrain, serveUntilSignalled } from "./Health/Lifecycle.js"
import { MemoryReclaimLive } from "./Health/MemoryReclaim.js"
import { HttpLive } from "./Server.js"
import { ServicesLive } from "./Services.js"
import { TelemetryLive } from "./Telemetry.js"
import { JsonLogLive } from "./Observability/JsonLog.js"

const NodeServerLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (config) =>
    NodeServer.layer(
      // Node's own guards against slow clients: headers and the whole request must arrive in time.
      () =>
        createServer({
          headersTimeout: Math.min(config.httpHeadersTimeoutMs, config.httpRequestTimeoutMs),
          requestTimeout: config.httpRequestTimeoutMs,
          // How often Node looks for requests past those timeouts (its default is every 30 s).
          connectionsCheckingInterval: 1_000,
          maxHeaderSize: 16_384
        }),
      { port: config.port, host: config.host, backlog: config.httpListenBacklog }
    ))
)

const MainLive = Layer.merge(HttpLive, MemoryReclaimLive).pipe(
  Layer.provide(NodeServerLive),
  Layer.provideMerge(ServicesLive),
  Layer.provide(TelemetryLive),
  Layer.provide(AppConfig.Default),
  Layer.provide(JsonLogLive)
)

/**
 * SERVICE_WORKERS=1 (the default): this process is the replica. More: it is the primary of that
 * many worker processes (Cluster/Primary.ts), each of which runs this file again and serves.
 */
const program = Effect.gen(function*() {
  const { serviceWorkers } = yield* AppConfig
  if (serviceWorkers === 1 || cluster.isWorker) return yield* serveUntilSignalled.pipe(Effect.provide(MainLive))
  const end = yield* runPrimary(fileURLToPath(import.meta.url))
  if (end._tag === "failedToStart") {
    // The worker logged its own error; this is the one line that says the service did not come up.
    process.stderr.write(`stateset-voice cannot start: a worker exited (code ${end.exitCode}) before serving; its error is logged above\n`)
  }
  if (end.exitCode !== 0) yield* Effect.sync(() => process.exit(end.exitCode))
}).pipe(Effect.provide(Layer.merge(AppConfig.Default, JsonLogLive)))

runMainWithDrain(
  program.pipe(
    // A first run that cannot start its own PostgreSQL says what to do, in one line.
    Effect.catchTag("EmbeddedPostgresError", (error) =>
      Effect.sync(() => {
        process.stderr.write(`stateset-voice cannot start: ${error.message}\n`)
        process.exit(1)
      })),
    // A bad setting too: one line naming it, not a stack of causes.
    Effect.catchTag("ConfigError", (error) =>
      Effect.sync(() => {
        process.stderr.write(`stateset-voice cannot start: ${describeConfigError(error)}\n`)
        process.exit(1)
      }))
  ),
  { disablePrettyLogger: true }
)
