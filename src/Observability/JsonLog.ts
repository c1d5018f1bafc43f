import { Cause, FiberId, FiberRefs, HashMap, List, Logger } from "effect"
import { CurrentRequest, type RequestContext } from "../Http/RequestContext.js"

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

/** What `Logger.jsonLogger` writes as-is: `JSON.stringify` gives the same text for these. */
const isPlain = (value: unknown): boolean =>
  value === null || value === undefined || typeof value === "string" || typeof value === "boolean" ||
  typeof value === "number"

const NOT_PLAIN = Symbol("not plain")

/**
 * The common line (a single string message, no cause, annotations that are strings, numbers or
 * booleans: the access line, a call's end) as `Logger.jsonLogger` writes it, without its
 * per-value `toJSON`/redaction walk, `stringifyCircular`'s replacer (which takes `JSON.stringify`
 * off its fast path) or a second HashMap for the request's fields: about half of a line's CPU,
 * and a call logs three (bench/RESULTS.md, "CPU per call during set-up"). Same fields and values;
 * the request's fields come after the fiber's annotations. Anything else goes the general way.
 */
const plainLine = (options: Logger.Logger.Options<unknown>, request: RequestContext | undefined): string | typeof NOT_PLAIN => {
  const raw = options.message
  const message = Array.isArray(raw) ? (raw.length === 1 ? raw[0] : NOT_PLAIN) : raw
  if (typeof message !== "string" || !Cause.isEmpty(options.cause)) return NOT_PLAIN
  const annotations: Record<string, unknown> = {}
  for (const [key, value] of options.annotations) {
    if (!isPlain(value)) return NOT_PLAIN
    annotations[key] = value
  }
  if (request !== undefined) {
    if (!(("request_id") in annotations)) annotations.request_id = request.requestId
    if (request.tenantId !== undefined && !(("tenant_id") in annotations)) annotations.tenant_id = request.tenantId
    const access = request.access
    if (access !== undefined) for (const key in access) annotations[key] = access[key as keyof typeof access]
  }
  const spans: Record<string, number> = {}
  if (List.isCons(options.spans)) {
    const now = options.date.getTime()
    for (const span of options.spans) spans[span.label] = now - span.startTime
  }
  return JSON.stringify({
    message,
    logLevel: options.logLevel.label,
    timestamp: options.date.toISOString(),
    annotations,
    spans,
    fiberId: FiberId.threadName(options.fiberId)
  })
}

/** One line of `Logger.json`'s JSON (exported for its test). */
export const jsonLine = (options: Logger.Logger.Options<unknown>): string => {
  const request = FiberRefs.getOrDefault(options.context, CurrentRequest)
  const fast = plainLine(options, request)
  return fast !== NOT_PLAIN ? fast : Logger.jsonLogger.log(withRequestId(options))
}

/**
 * `Logger.json`'s lines, written straight to stdout. `Logger.json` goes through `console.log`,
 * which re-formats its argument and checks colour support for every line: a few percent of
 * each request's CPU with the access log (bench/RESULTS.md). Same JSON, same stream.
 */
const toStdout = Logger.make<unknown, void>((options) => {
  process.stdout.write(`${jsonLine(options)}\n`)
})

export const JsonLogLive = Logger.replace(Logger.defaultLogger, toStdout)
