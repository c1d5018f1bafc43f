import { Cause, Clock, Effect, Either, Schema } from "effect"
import { FunctionRegistry, type ToolContext, ToolFailed } from "../Tools/FunctionRegistry.js"
import type { FunctionCallEntry } from "./CallRecorder.js"
import type { AgentAction } from "./Departure.js"

const parseArguments = Schema.decodeEither(Schema.parseJson())

export interface ToolRun {
  readonly output: unknown
  readonly action: AgentAction | undefined
  readonly entry: FunctionCallEntry
  /** For metrics: whether the tool answered, failed, or ran out of time. */
  readonly outcome: "ok" | "error" | "timeout"
}

const reasonOf = (args: unknown): string | null =>
  typeof args === "object" && args !== null && "reason" in args && typeof args.reason === "string" ? args.reason : null

/**
 * Runs one tool call of the model with a timeout. It never fails: a failed, timed-out or
 * crashed tool becomes `{ ok: false, error }` for the model to talk about.
 */
export const runTool = (name: string, rawArguments: string, context: ToolContext, timeoutMs: number) =>
  Effect.gen(function*() {
    const registry = yield* FunctionRegistry
    const parsed = parseArguments(rawArguments === "" ? "{}" : rawArguments)
    // Unparseable arguments go to the tool as they are; its schema reports them.
    const args = Either.getOrElse(parsed, () => rawArguments)
    const startedAt = yield* Clock.currentTimeMillis
    let failed: ToolRun["outcome"] = "ok"
    const outcome = yield* registry.execute(name, args, context).pipe(
      Effect.timeoutFail({
        duration: timeoutMs,
        onTimeout: () => {
          failed = "timeout"
          return new ToolFailed({ name, message: `timed out after ${timeoutMs} ms` })
        }
      }),
      Effect.map((outcome) => ({ output: outcome.output, action: outcome.action })),
      Effect.catchAllCause((cause) => {
        const failure = Cause.failureOption(cause)
        const message = failure._tag === "Some" ? failure.value.message : "the tool crashed"
        if (failed === "ok") failed = "error"
        return Effect.as(
          Effect.logWarning("tool call failed", cause).pipe(Effect.annotateLogs("tool", name)),
          { output: { ok: false, error: message }, action: undefined }
        )
      })
    )
    const finishedAt = yield* Clock.currentTimeMillis
    return {
      output: outcome.output,
      action: outcome.action === undefined ? undefined : { kind: outcome.action, reason: reasonOf(args) },
      entry: {
        name,
        arguments: args,
        result: outcome.output,
        durationMs: finishedAt - startedAt,
        timestamp: new Date(startedAt)
      },
      outcome: failed
    } satisfies ToolRun
  })
