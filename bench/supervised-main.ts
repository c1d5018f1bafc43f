/**
 * The service as src/main.ts composes it, with `supervisor` watching every fiber and operation
 * (op supervision on): shared by bench/ops-main.ts (counts) and bench/ops-trace-main.ts (a trace).
 * Not for production: op supervision slows every operation down.
 */
import * as NodeServer from "../src/Http/NodeServer.js"
import { Effect, Layer, RuntimeFlags, Supervisor } from "effect"
import { createServer } from "node:http"
import { AppConfig } from "../src/Config.js"
import { runMainWithDrain, serveUntilSignalled } from "../src/Health/Lifecycle.js"
import { JsonLogLive } from "../src/Observability/JsonLog.js"
import { HttpLive } from "../src/Server.js"
import { ServicesLive } from "../src/Services.js"
import { TelemetryLive } from "../src/Telemetry.js"

export const runSupervised = (supervisor: Supervisor.Supervisor<unknown>) => {
  const NodeServerLive = Layer.unwrapEffect(
    Effect.map(AppConfig, (config) => NodeServer.layer(() => createServer(), { port: config.port, host: config.host }))
  )
  const MainLive = HttpLive.pipe(
    Layer.provide(NodeServerLive),
    Layer.provideMerge(ServicesLive),
    Layer.provide(TelemetryLive),
    Layer.provide(AppConfig.Default),
    Layer.provide(JsonLogLive),
    Layer.provide(Supervisor.addSupervisor(supervisor)),
    Layer.provide(RuntimeFlags.enableOpSupervision)
  )
  runMainWithDrain(serveUntilSignalled.pipe(Effect.provide(MainLive)) as Effect.Effect<void, unknown>, { disablePrettyLogger: true })
}
