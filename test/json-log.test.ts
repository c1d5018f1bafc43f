import { describe, expect, it } from "@effect/vitest"
import { Cause, FiberId, FiberRefs, HashMap, List, Logger, LogLevel, LogSpan } from "effect"
import { plainLine } from "../src/Observability/JsonLog.js"
import { seededRandom } from "./support/SeededRandom.js"

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
