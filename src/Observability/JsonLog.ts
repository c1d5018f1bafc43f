import { FiberRefs, HashMap, Logger } from "effect"
import { CurrentRequest } from "../Http/RequestContext.js"

/**
 * A line logged while a request is in flight carries its id, taken from the edge's request
 * context here (once per line) rather than annotated by the edge on every request's fiber.
 */
const withRequestId = <O extends Logger.Logger.Options<unknown>>(options: O): O => {
  const request = FiberRefs.getOrDefault(options.context, CurrentRequest)
  return request === undefined || HashMap.has(options.annotations, "request_id")
    ? options
    : { ...options, annotations: HashMap.set(options.annotations, "request_id", request.requestId as unknown) }
}

/**
 * `Logger.json`'s lines, written straight to stdout. `Logger.json` goes through `console.log`,
 * which re-formats its argument and checks colour support for every line: a few percent of
 * each request's CPU with the access log (bench/RESULTS.md). Same JSON, same stream.
 */
const toStdout = Logger.make<unknown, void>((options) => {
  process.stdout.write(`${Logger.jsonLogger.log(withRequestId(options))}\n`)
})

export const JsonLogLive = Logger.replace(Logger.defaultLogger, toStdout)
