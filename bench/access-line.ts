/**
 * CPU per access line: the edge's line through Effect's logger (`Effect.logInfo` with the
 * request context's fields, as main wrote it) against `writeAccessLine` (src/Observability/JsonLog.ts),
 * both under `JsonLogLive`, alternating in the same process. Run with stdout to /dev/null:
 *
 *   npx tsx bench/access-line.ts > /dev/null      (results on stderr)
 *
 * With ONLY=logger or ONLY=direct, one path only (e.g. under `--trace-gc` to count collections).
 */
import { Effect, FiberRef, LogLevel } from "effect"
import { CurrentRequest, type RequestContext } from "../src/Http/RequestContext.js"
import { JsonLogLive, writeAccessLine } from "../src/Observability/JsonLog.js"

const N = Number(process.env.LINES ?? 20_000)
const context: RequestContext = { requestId: "2b009f51-63b4-4bdb-a8a0-24593c592391", tenantId: "bench-large", retryAfterSeconds: undefined, access: undefined }
const fields = { method: "GET", path: "/api/v1/call-logs", status: 200, duration_ms: 3, client: "127.0.0.1" }

const viaLogger = Effect.gen(function*() {
  for (let i = 0; i < N; i++) {
    context.access = fields
    yield* Effect.logInfo("http request")
    context.access = undefined
  }
})
const direct = Effect.withFiberRuntime((fiber) => {
  for (let i = 0; i < N; i++) if (!writeAccessLine(fiber, LogLevel.Info, context, fields, Date.now())) throw new Error("not taken")
  return Effect.void
})

const cpu = <A>(effect: Effect.Effect<A>) =>
  Effect.suspend(() => {
    const start = process.cpuUsage()
    return Effect.map(effect, () => {
      const used = process.cpuUsage(start)
      return (used.user + used.system) / N
    })
  })

const program = Effect.gen(function*() {
  const logger: Array<number> = []
  const written: Array<number> = []
  const only = process.env.ONLY
  for (let round = 0; round < 8; round++) {
    if (only !== "direct") logger.push(yield* cpu(viaLogger))
    if (only !== "logger") written.push(yield* cpu(direct))
  }
  const median = (xs: Array<number>) => xs.length === 0 ? "-" : [...xs].sort((a, b) => a - b)[xs.length >> 1]!.toFixed(2)
  process.stderr.write(`us CPU per line (median of 8 rounds of ${N}): logger ${median(logger)}, direct ${median(written)}\n`)
}).pipe(Effect.locally(CurrentRequest, context), Effect.provide(JsonLogLive))

Effect.runPromise(Effect.zipRight(FiberRef.set(CurrentRequest, context), program))
