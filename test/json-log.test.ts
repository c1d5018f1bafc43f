import { Cause, Effect, Logger } from "effect"
import { describe, expect, it } from "vitest"
import { CurrentRequest } from "../src/Http/RequestContext.js"
import { jsonLine } from "../src/Observability/JsonLog.js"

/** Each line as the service writes it (`jsonLine`) next to `Logger.jsonLogger`'s own, parsed. */
const lines = (program: Effect.Effect<void>) => {
  const out: Array<{ ours: Record<string, unknown>; effect: Record<string, unknown> }> = []
  const capture = Logger.make<unknown, void>((options) => {
    out.push({ ours: JSON.parse(jsonLine(options)), effect: JSON.parse(Logger.jsonLogger.log(options)) })
  })
  Effect.runSync(program.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture))))
  return out
}

describe("JSON log lines", () => {
  it("writes plain lines as Logger.jsonLogger does (message, level, time, annotations, spans, fiber)", () => {
    const [line] = lines(
      Effect.logInfo("call ended").pipe(
        Effect.annotateLogs({ tenant_id: "t1", duration_ms: 12.5, escalated: false, reason: null, missing: undefined }),
        Effect.withLogSpan("call")
      )
    )
    expect(line!.ours).toEqual(line!.effect)
    expect(line!.ours.annotations).toEqual({ tenant_id: "t1", duration_ms: 12.5, escalated: false, reason: null })
    expect(Object.keys(line!.ours.spans as object)).toEqual(["call"])
  })

  it("falls back to Logger.jsonLogger for causes, several messages and values that are not plain", () => {
    const all = lines(Effect.gen(function*() {
      yield* Effect.logError("failed", new Error("boom"))
      yield* Effect.logWarning("with a cause").pipe(Effect.annotateLogs({ n: 1 }), (e) => Effect.zipRight(e, Effect.void))
      yield* Effect.logInfo("object").pipe(Effect.annotateLogs({ detail: { a: [1, 2] }, big: 10n }))
      yield* Effect.logInfo({ structured: true })
    }))
    expect(all).toHaveLength(4)
    for (const line of all) expect(line.ours).toEqual(line.effect)
    const [withCause] = lines(Effect.logError("bad", Cause.fail("x")).pipe(Effect.annotateLogs({ k: "v" })))
    expect(withCause!.ours).toEqual(withCause!.effect)
    expect(typeof withCause!.ours.cause).toBe("string")
  })

  it("adds the request's id, tenant and access fields to the line's annotations", () => {
    const request = {
      requestId: "req-1",
      tenantId: "acme",
      retryAfterSeconds: undefined,
      access: { method: "POST", path: "/api/v1/incoming-call", status: 200, duration_ms: 3, client: "127.0.0.1" }
    }
    const [line] = lines(Effect.logInfo("http request").pipe(Effect.annotateLogs({ kept: "yes" }), Effect.locally(CurrentRequest, request)))
    expect(line!.ours).toEqual({
      ...line!.effect,
      annotations: { kept: "yes", request_id: "req-1", tenant_id: "acme", ...request.access }
    })
    const [own] = lines(Effect.logInfo("x").pipe(
      Effect.annotateLogs({ request_id: "own", tenant_id: "own-tenant" }),
      Effect.locally(CurrentRequest, { ...request, access: undefined })
    ))
    expect(own!.ours.annotations).toEqual({ request_id: "own", tenant_id: "own-tenant" })
  })

  it("keeps the general path's output for a structured line logged during a request", () => {
    const request = { requestId: "req-2", tenantId: undefined, retryAfterSeconds: undefined, access: undefined }
    const [line] = lines(Effect.logInfo("x").pipe(Effect.annotateLogs({ detail: { a: 1 } }), Effect.locally(CurrentRequest, request)))
    expect(line!.ours.annotations).toEqual({ detail: { a: 1 }, request_id: "req-2" })
  })
})
