import * as Headers from "@effect/platform/Headers"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpTraceContext from "@effect/platform/HttpTraceContext"
import { Context, Effect, Option } from "effect"
import { redactQuerySecrets, redactUrlSecrets } from "./UrlSecrets.js"

/**
 * The request's server span, as @effect/platform's own server middleware makes it (its
 * `HttpMiddleware.tracer`, which the package does not export): skipped when
 * `HttpMiddleware.currentTracerDisabledWhen` says so (src/Server.ts: always while tracing is
 * off), otherwise the same span name, parent (traceparent), kind and attributes.
 */
export const withServerSpan = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.withFiberRuntime((fiber) => {
    const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
    if (fiber.getFiberRef(HttpMiddleware.currentTracerDisabledWhen)(request)) return app
    const url = Option.getOrUndefined(HttpServerRequest.toURL(request))
    if (url !== undefined && (url.username !== "" || url.password !== "")) {
      url.username = "REDACTED"
      url.password = "REDACTED"
    }
    const redactedNames = fiber.getFiberRef(Headers.currentRedactedNames)
    const requestHeaders = Headers.redact(request.headers, redactedNames)
    const spanName = Context.get(fiber.currentContext, HttpMiddleware.SpanNameGenerator)
    return Effect.useSpan(spanName(request), {
      parent: Option.getOrUndefined(HttpTraceContext.fromHeaders(request.headers)),
      kind: "server",
      captureStackTrace: false
    }, (span) => {
      span.attribute("http.request.method", request.method)
      if (url !== undefined) {
        // Spans leave the process: a credential in the query (the sweeps' `auth_token`) is not kept.
        span.attribute("url.full", redactUrlSecrets(url.toString(), "REDACTED"))
        span.attribute("url.path", url.pathname)
        const query = redactQuerySecrets(url.search.slice(1), "REDACTED")
        if (query !== "") span.attribute("url.query", query)
        span.attribute("url.scheme", url.protocol.slice(0, -1))
      }
      const userAgent = request.headers["user-agent"]
      if (userAgent !== undefined) span.attribute("user_agent.original", userAgent)
      for (const name in requestHeaders) span.attribute(`http.request.header.${name}`, String(requestHeaders[name]))
      if (Option.isSome(request.remoteAddress)) span.attribute("client.address", request.remoteAddress.value)
      return Effect.flatMap(Effect.exit(Effect.withParentSpan(app, span)), (exit) => {
        const response = HttpServerError.exitResponse(exit)
        span.attribute("http.response.status_code", response.status)
        const responseHeaders = Headers.redact(response.headers, redactedNames)
        for (const name in responseHeaders) span.attribute(`http.response.header.${name}`, String(responseHeaders[name]))
        return exit
      })
    })
  })
