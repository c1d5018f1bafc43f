/**
 * The service (src/main.ts's layers) with a supervisor counting the Effect operations every
 * fiber runs, for measuring what one request costs the runtime without timing noise.
 * `kill -USR2 <pid>` writes the totals so far to stderr as one JSON line. Used by
 * bench/rest-ops.ts; not for production (op supervision slows every operation down).
 */
import { type Context, Effect, Supervisor } from "effect"
import type * as Fiber from "effect/Fiber"
import { runSupervised } from "./supervised-main.js"

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

runSupervised(new Counting())
