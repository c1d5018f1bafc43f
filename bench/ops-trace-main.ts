/**
 * bench/ops-main.ts with a trace: `kill -USR1 <pid>` starts recording every Effect operation
 * (its kind and the first characters of the function it carries), a second USR1 writes them
 * to stderr as one `{"trace":[...]}` line and stops; USR2 writes it and records on. For finding where one request's
 * operations go (bench/ops-trace.ts); not for production.
 */
import { type Context, Effect, Supervisor } from "effect"
import type * as Fiber from "effect/Fiber"
import { runSupervised } from "./supervised-main.js"

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
  override onEffect(fiber: Fiber.RuntimeFiber<unknown, unknown>, effect: Effect.Effect<unknown, unknown, unknown>) {
    // Each operation with its fiber's id: one request's operations can be told from a background loop's.
    trace?.push(`#${fiber.id().id} ${describe(effect as unknown as Record<string, unknown>)}`)
  }
}

process.on("SIGUSR1", () => {
  if (trace === undefined) trace = []
  else {
    process.stderr.write(`${JSON.stringify({ trace })}\n`)
    trace = undefined
  }
})

// USR2 while recording: writes what was recorded so far and goes on recording (phases of one call).
process.on("SIGUSR2", () => {
  if (trace === undefined) return
  process.stderr.write(`${JSON.stringify({ trace })}\n`)
  trace = []
})

runSupervised(new Tracing())
