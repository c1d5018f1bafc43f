import { FiberRefs, HashMap, Logger } from "effect"
import { CurrentRequest } from "../Http/RequestContext.js"

/**
 * A line logged while a request is in flight carries its id and, once authenticated, its
 * tenant, taken from the edge's request context here (once per line) rather than annotated on
 * every request's fiber (each annotation is a copy of the fiber's refs). The edge's access
 * line carries its fields the same way (`RequestContext.access`).
 */
const withRequestId = <O extends Logger.Logger.Options<unknown>>(options: O): O => {
  const request = FiberRefs.getOrDefault(options.context, CurrentRequest)
  if (request === undefined) return options
  let annotations = options.annotations
  if (!HashMap.has(annotations, "request_id")) annotations = HashMap.set(annotations, "request_id", request.requestId as unknown)
  if (request.tenantId !== undefined && !HashMap.has(annotations, "tenant_id")) {
    annotations = HashMap.set(annotations, "tenant_id", request.tenantId as unknown)
  }
  const access = request.access
  if (access !== undefined) {
    annotations = HashMap.mutate(annotations, (all) => {
      for (const key in access) HashMap.set(all, key, access[key as keyof typeof access] as unknown)
    })
  }
  return annotations === options.annotations ? options : { ...options, annotations }
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
