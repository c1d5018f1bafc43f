import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { JsonLogLive } from "../src/Observability/JsonLog.js"
import { recordStdoutWrites } from "./support/StdoutWrites.js"

/**
 * The log's lines reach stdout once per turn of the event loop (src/Observability/StdoutLines.ts):
 * the "call ended" lines of calls that hang up together cost one write, not one each. Oracle:
 * what `process.stdout.write` is given, and a child process's stdout as its reader sees it.
 */

const ROOT = fileURLToPath(new URL("..", import.meta.url))

/** Each `process.stdout.write` call's text from now until the next turn of the event loop has run. */
const writesThisTurn = (run: () => void) =>
  Effect.async<ReadonlyArray<string>>((resume) => {
    const { restore, written } = recordStdoutWrites()
    run()
    // setImmediate callbacks run in order: this one after the writer's.
    setImmediate(() => {
      restore()
      resume(Effect.succeed(written))
    })
  })

describe("log lines on stdout", () => {
  it.effect("200 calls ending in the same turn print their 200 lines, in order, in one write", () =>
    Effect.gen(function*() {
      const written = yield* writesThisTurn(() =>
        Effect.runSync(
          Effect.forEach(Array.from({ length: 200 }, (_, i) => i), (i) =>
            Effect.logInfo("call ended").pipe(Effect.annotateLogs({ stream_sid: `MZ${i}`, end_reason: "caller_hangup" })), { discard: true }).pipe(
              Effect.provide(JsonLogLive)
            )
        )
      )
      expect(written).toHaveLength(1)
      const lines = written[0]!.split("\n")
      expect(lines.pop()).toBe("")
      expect(lines.map((line) => JSON.parse(line) as { message: string; annotations: { stream_sid: string } })).toEqual(
        Array.from({ length: 200 }, (_, i) => expect.objectContaining({ message: "call ended", annotations: expect.objectContaining({ stream_sid: `MZ${i}` }) }))
      )
    }))

  it("a process that exits right after logging still prints its lines", () => {
    const script = `
      import { Effect } from "effect"
      import { JsonLogLive } from "./src/Observability/JsonLog.ts"
      Effect.runSync(Effect.provide(Effect.zipRight(Effect.logInfo("first"), Effect.logWarning("last words")), JsonLogLive))
      process.exit(3)
    `
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8" })
    expect(child.status).toBe(3)
    expect(child.stdout.trim().split("\n").map((line) => (JSON.parse(line) as { message: string }).message)).toEqual(["first", "last words"])
  })
})
