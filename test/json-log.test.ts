import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, FiberId, FiberRefs, HashMap, List, Logger, LogLevel, LogSpan } from "effect"
import type { AccessFields, RequestContext } from "../src/Http/RequestContext.js"
import { accessLine, JsonLogLive, plainLine, writeAccessLine } from "../src/Observability/JsonLog.js"
import { flushLines } from "../src/Observability/StdoutLines.js"
import { seededRandom } from "./support/SeededRandom.js"
import { recordStdoutWrites } from "./support/StdoutWrites.js"

/**
 * The service's log lines are `Logger.jsonLogger`'s text; the usual line is written directly
 * (src/Observability/JsonLog.ts `plainLine`). Oracle: jsonLogger itself, on seeded random lines.
 */

const { int, pick, random: rnd } = seededRandom(20261202)

const PIECES = ["a", "Z", " ", "\"", "\\", "\n", "\t", "\u0001", "\u007f", "é", "😀", "\u2028", "</script>", "{", ":"]
const text = (max = 10) => Array.from({ length: int(max) }, () => pick(PIECES)).join("")
const KEYS = ["request_id", "tenant_id", "path", "status", "duration_ms", "client", "method", "grace_seconds", "x"]
const VALUES: ReadonlyArray<() => unknown> = [
  () => text(),
  () => int(100_000),
  () => pick([0, -0, 1.5, -17, 1e21, 1e-7, 2 ** 53 - 1, Number.NaN]),
  () => rnd() < 0.5,
  () => null
]

const options = (annotations: HashMap.HashMap<string, unknown>, overrides: Partial<Logger.Logger.Options<unknown>> = {}) => ({
  annotations,
  cause: Cause.empty,
  context: FiberRefs.unsafeMake(new Map()),
  date: new Date(Date.UTC(2026, 11, 2) + int(86_400_000)),
  fiberId: FiberId.runtime(int(100_000), 0),
  logLevel: pick([LogLevel.Info, LogLevel.Warning, LogLevel.Error, LogLevel.Debug]),
  message: rnd() < 0.5 ? text(20) : [text(20)],
  spans: List.empty<LogSpan.LogSpan>(),
  ...overrides
})

const annotations = () => {
  let map = HashMap.empty<string, unknown>()
  for (let i = int(8); i > 0; i--) map = HashMap.set(map, rnd() < 0.2 ? text(6) : pick(KEYS), pick(VALUES)())
  return map
}

describe("JSON log lines", () => {
  it("the usual line is jsonLogger's text, byte for byte", () => {
    for (let i = 0; i < 2_000; i++) {
      const line = options(annotations())
      expect(plainLine(line)).toBe(Logger.jsonLogger.log(line))
    }
  })

  it("other lines are left to jsonLogger", () => {
    const base = HashMap.make<ReadonlyArray<readonly [string, unknown]>>(["status", 200])
    const others: ReadonlyArray<Logger.Logger.Options<unknown>> = [
      options(HashMap.set(base, "cause", { nested: true })),
      options(HashMap.set(base, "10", "index key")),
      options(HashMap.set(base, "__proto__", "x")),
      options(base, { message: ["two", "parts"] }),
      options(base, { message: { an: "object" } }),
      options(base, { cause: Cause.fail("boom") }),
      options(base, { spans: List.make(LogSpan.make("span", 0)) }),
      options(base, { fiberId: FiberId.none })
    ]
    for (const line of others) expect(plainLine(line)).toBeUndefined()
  })
})

/** What `process.stdout.write` was given while `effect` ran (the logger writes there, once per turn: flushed here). */
const captureStdout = <A>(effect: Effect.Effect<A>) =>
  Effect.suspend(() => {
    flushLines()
    const { restore, written } = recordStdoutWrites()
    return effect.pipe(
      Effect.map((result) => ({ result, written })),
      Effect.ensuring(Effect.sync(() => {
        flushLines()
        restore()
      }))
    )
  })

describe("the edge's access line", () => {
  const request = (tenantId: string | undefined): RequestContext => ({
    requestId: text(12) || "r",
    tenantId,
    retryAfterSeconds: undefined,
    access: undefined
  })
  const access = (): AccessFields => ({
    method: pick(["GET", "POST", "DELETE"]),
    path: `/api/v1/${text(8)}`,
    status: pick([200, 201, 400, 404, 429, 500]),
    duration_ms: pick([0, 1, 17, 2_500]),
    client: pick(["127.0.0.1", "::1", text(6)])
  })

  it("is jsonLogger's line as a JSON value (the annotations the logger would add)", () => {
    for (let i = 0; i < 500; i++) {
      const context = request(rnd() < 0.5 ? undefined : text(8))
      const fields = access()
      const level = pick([LogLevel.Info, LogLevel.Debug])
      const now = Date.UTC(2026, 11, 3) + int(86_400_000)
      const fiberId = int(100_000)
      let annotations = HashMap.make<ReadonlyArray<readonly [string, unknown]>>(["request_id", context.requestId])
      if (context.tenantId !== undefined) annotations = HashMap.set(annotations, "tenant_id", context.tenantId)
      for (const [key, value] of Object.entries(fields)) annotations = HashMap.set(annotations, key, value)
      const oracle = Logger.jsonLogger.log(options(annotations, {
        date: new Date(now),
        fiberId: FiberId.runtime(fiberId, 0),
        logLevel: level,
        message: "http request"
      }))
      const line = accessLine(level, context, fields, now, fiberId)
      expect(line.endsWith("\n")).toBe(true)
      expect(JSON.parse(line)).toEqual(JSON.parse(oracle))
    }
  })

  const attempt = (level: LogLevel.LogLevel = LogLevel.Info) =>
    Effect.withFiberRuntime((fiber) => Effect.succeed(writeAccessLine(fiber, level, request("acme"), access(), Date.now())))

  it.effect("is written directly under the service's logger alone, and nothing below the minimum level", () =>
    Effect.gen(function*() {
      const info = yield* captureStdout(attempt())
      expect(info.result).toBe(true)
      expect(info.written).toHaveLength(1)
      expect(JSON.parse(info.written[0]!)).toMatchObject({ message: "http request", annotations: { tenant_id: "acme" } })
      const debug = yield* captureStdout(attempt(LogLevel.Debug))
      expect(debug).toEqual({ result: true, written: [] })
    }).pipe(Effect.provide(JsonLogLive)))

  it.effect("is left to the logger with another logger, log annotations, a log span or a span", () =>
    Effect.gen(function*() {
      const refused = [
        attempt(),
        attempt().pipe(Effect.provide(JsonLogLive), Effect.provide(Logger.add(Logger.make(() => undefined)))),
        attempt().pipe(Effect.annotateLogs("job", "x"), Effect.provide(JsonLogLive)),
        attempt().pipe(Effect.withLogSpan("work"), Effect.provide(JsonLogLive)),
        attempt().pipe(Effect.withSpan("request"), Effect.provide(JsonLogLive))
      ]
      for (const effect of refused) expect(yield* captureStdout(effect)).toEqual({ result: false, written: [] })
    }))
})
