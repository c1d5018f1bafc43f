/**
 * The service (src/main.ts's layers) with a supervisor counting the Effect operations every
 * fiber runs, for measuring what one request costs the runtime without timing noise.
 * `kill -USR2 <pid>` writes the totals so far to stderr as one JSON line. Used by
 * bench/rest-ops.ts; not for production (op supervision slows every operation down).
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { type Context, Effect, Layer, RuntimeFlags, Supervisor } from "effect"
import type * as Fiber from "effect/Fiber"
import { createServer } from "node:http"
import { AppConfig } from "../src/Config.js"
import { runMainWithDrain, serveUntilSignalled } from "../src/Health/Lifecycle.js"
import { JsonLogLive } from "../src/Observability/JsonLog.js"
import { HttpLive } from "../src/Server.js"
import { ServicesLive } from "../src/Services.js"
import { TelemetryLive } from "../src/Telemetry.js"

const counts = { ops: 0, fibers: 0, contextSize: 0, byOp: new Map<string, number>() }

class Counting extends Supervisor.AbstractSupervisor<void> {
  get value() {
    return Effect.void
  }
  override onStart(context: Context.Context<unknown>) {
    counts.fibers++
    counts.contextSize = (context as unknown as { unsafeMap: Map<unknown, unknown> }).unsafeMap.size
  }
  override onEffect(_fiber: Fiber.RuntimeFiber<unknown, unknown>, effect: Effect.Effect<unknown, unknown, unknown>) {
    counts.ops++
    const op = (effect as unknown as { _op?: string })._op ?? "?"
    counts.byOp.set(op, (counts.byOp.get(op) ?? 0) + 1)
  }
}

process.on("SIGUSR2", () => {
  process.stderr.write(`${JSON.stringify({ ops: counts.ops, fibers: counts.fibers, contextSize: counts.contextSize, byOp: Object.fromEntries(counts.byOp) })}\n`)
})

const NodeServerLive = Layer.unwrapEffect(
  Effect.map(AppConfig, (config) => NodeHttpServer.layer(() => createServer(), { port: config.port, host: config.host }))
)

const MainLive = HttpLive.pipe(
  Layer.provide(NodeServerLive),
  Layer.provideMerge(ServicesLive),
  Layer.provide(TelemetryLive),
  Layer.provide(AppConfig.Default),
  Layer.provide(JsonLogLive),
  Layer.provide(Supervisor.addSupervisor(new Counting())),
  Layer.provide(RuntimeFlags.enableOpSupervision)
)

runMainWithDrain(serveUntilSignalled.pipe(Effect.provide(MainLive)) as Effect.Effect<void, unknown>, { disablePrettyLogger: true })
