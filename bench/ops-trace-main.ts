/**
 * bench/ops-main.ts with a trace: `kill -USR1 <pid>` starts recording every Effect operation
 * (its kind and the first characters of the function it carries), a second USR1 writes them
 * to stderr as one `{"trace":[...]}` line and stops. For finding where one request's
 * operations go (bench/ops-trace.ts); not for production.
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

let trace: Array<string> | undefined

const describe = (effect: Record<string, unknown>): string => {
  const parts: Array<string> = [String(effect._op ?? "?")]
  for (const key of ["effect_instruction_i0", "effect_instruction_i1", "effect_instruction_i2"]) {
    const value = effect[key]
    if (typeof value === "function") parts.push(`${key.slice(-2)}=${value.name || ""}:${String(value).replace(/\s+/g, " ").slice(0, 110)}`)
  }
  return parts.join(" ")
}

class Tracing extends Supervisor.AbstractSupervisor<void> {
  get value() {
    return Effect.void
  }
  override onStart(_context: Context.Context<unknown>) {
    trace?.push("FIBER START")
  }
  override onEffect(_fiber: Fiber.RuntimeFiber<unknown, unknown>, effect: Effect.Effect<unknown, unknown, unknown>) {
    trace?.push(describe(effect as unknown as Record<string, unknown>))
  }
}

process.on("SIGUSR1", () => {
  if (trace === undefined) trace = []
  else {
    process.stderr.write(`${JSON.stringify({ trace })}\n`)
    trace = undefined
  }
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
  Layer.provide(Supervisor.addSupervisor(new Tracing())),
  Layer.provide(RuntimeFlags.enableOpSupervision)
)

runMainWithDrain(serveUntilSignalled.pipe(Effect.provide(MainLive)) as Effect.Effect<void, unknown>, { disablePrettyLogger: true })
