import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Logger } from "effect"
import { createServer } from "node:http"
import { AppConfig } from "./Config.js"
import { DrainOnShutdown } from "./Health/Lifecycle.js"
import { HttpLive } from "./Server.js"
import { ServicesLive } from "./Services.js"
import { TelemetryLive } from "./Telemetry.js"

const NodeServerLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (config) => NodeHttpServer.layer(createServer, { port: config.port, host: config.host }))
)

const MainLive = DrainOnShutdown.pipe(
  Layer.provide(HttpLive.pipe(Layer.provide(NodeServerLive))),
  Layer.provide(ServicesLive),
  Layer.provide(TelemetryLive),
  Layer.provide(AppConfig.Default),
  Layer.provide(Logger.json)
)

NodeRuntime.runMain(Layer.launch(MainLive), { disablePrettyLogger: true })
