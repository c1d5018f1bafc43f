import { Cause, type Fiber, FiberRef, FiberRefs, HashMap, HashSet, List, Logger, LogLevel } from "effect"
import { type AccessFields, CurrentRequest, type RequestContext } from "../Http/RequestContext.js"
import { writeLines } from "./StdoutLines.js"

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
 * each request's CPU with the access log (bench/RESULTS.md). Same JSON, same stream, the lines
 * of one turn of the event loop in one write (StdoutLines.ts).
 */
const toStdout = Logger.make<unknown, void>((options) => {
  const line = withRequestId(options)
  writeLines(`${plainLine(line) ?? Logger.jsonLogger.log(line)}\n`)
})

/** Keys a JS object would not keep in insertion order (array indexes) or not keep at all. */
const UNORDERED_KEY = /^(?:0|[1-9]\d*|__proto__)$/

/**
 * `Logger.jsonLogger`'s text for the usual line (every access line): one string message, no
 * cause, no spans, a runtime fiber, annotations of strings, numbers, booleans or null. Written
 * directly: jsonLogger builds an intermediate object, a fiber-id set for its name and runs
 * JSON.stringify with a replacer for every key (bench/RESULTS.md, "call-logs page"). Undefined
 * for any other line, which jsonLogger writes; test/json-log.test.ts compares the two.
 */
export const plainLine = (options: Logger.Logger.Options<unknown>): string | undefined => {
  const { annotations, cause, date, fiberId, logLevel, message, spans } = options
  const text = typeof message === "string"
    ? message
    : Array.isArray(message) && message.length === 1 && typeof message[0] === "string"
    ? message[0]
    : undefined
  if (text === undefined || fiberId._tag !== "Runtime" || List.isCons(spans) || !Cause.isEmpty(cause)) return undefined
  let fields = ""
  for (const [key, value] of annotations) {
    if (UNORDERED_KEY.test(key)) return undefined
    if (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean" && value !== null) return undefined
    fields += `${fields === "" ? "" : ","}${JSON.stringify(key)}:${JSON.stringify(value)}`
  }
  return `{"message":${JSON.stringify(text)},"logLevel":${JSON.stringify(logLevel.label)},"timestamp":${
    JSON.stringify(date.toISOString())
  },"annotations":{${fields}},"spans":{},"fiberId":"#${fiberId.id}"}`
}

export const JsonLogLive = Logger.replace(Logger.defaultLogger, toStdout)

/**
 * The edge's access line (one per request), written here without the logger pipeline when that
 * pipeline would write exactly this: the loggers are `JsonLogLive`'s and Effect's tracer logger,
 * which adds nothing without a span; the fiber has no log annotations or log spans. Effect's
 * `log` copies the fiber's refs, builds the annotations map and the options per line (~8 % of
 * a call-logs page's CPU, bench/RESULTS.md "REST machinery"). The JSON value is the one
 * `Logger.jsonLogger` writes (test/json-log.test.ts); only the annotations' key order differs
 * (fixed here, hash order there). False when the caller must log the line through Effect.
 */
export const writeAccessLine = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  level: LogLevel.LogLevel,
  request: RequestContext,
  access: AccessFields,
  now: number
): boolean =>
  fiber.currentSpan === undefined && writeAccessLineWith((ref) => fiber.getFiberRef(ref), fiber.id().id, level, request, access, now)

/** Reads a fiber ref's value: of a running fiber, or of a runtime's refs (`FiberRefs.getOrDefault`). */
export type FiberRefReader = <A>(ref: FiberRef.FiberRef<A>) => A

/**
 * `writeAccessLine` for a request served without a fiber of its own (src/Twilio/PlainWebhook.ts):
 * the fiber refs it would have had (the runtime's), no span, and the id of the fiber that ran its answer.
 */
export const writeAccessLineWith = (
  refOf: FiberRefReader,
  fiberId: number,
  level: LogLevel.LogLevel,
  request: RequestContext,
  access: AccessFields,
  now: number
): boolean => {
  // Below the minimum level Effect writes nothing either.
  if (LogLevel.greaterThan(refOf(FiberRef.currentMinimumLogLevel), level)) return true
  const loggers = refOf(FiberRef.currentLoggers)
  if (HashSet.size(loggers) !== 2 || !HashSet.has(loggers, toStdout) || !HashSet.has(loggers, Logger.tracerLogger)) return false
  if (HashMap.size(refOf(FiberRef.currentLogAnnotations)) > 0) return false
  if (List.isCons(refOf(FiberRef.currentLogSpan))) return false
  writeLines(accessLine(level, request, access, now, fiberId))
  return true
}

/** The access line's text, newline included: the fields `withRequestId` would add, in a fixed order. */
export const accessLine = (level: LogLevel.LogLevel, request: RequestContext, access: AccessFields, now: number, fiberId: number) =>
  `{"message":"http request","logLevel":${JSON.stringify(level.label)},"timestamp":"${new Date(now).toISOString()}",` +
  `"annotations":{"request_id":${JSON.stringify(request.requestId)}` +
  (request.tenantId === undefined ? "" : `,"tenant_id":${JSON.stringify(request.tenantId)}`) +
  `,"method":${JSON.stringify(access.method)},"path":${JSON.stringify(access.path)},"status":${access.status},` +
  `"duration_ms":${JSON.stringify(access.duration_ms)},"client":${JSON.stringify(access.client)}},"spans":{},"fiberId":"#${fiberId}"}\n`
