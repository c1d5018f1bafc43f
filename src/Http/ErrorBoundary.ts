import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type { HttpApiDecodeError } from "@effect/platform/HttpApiError"
import { Cause, Context, Effect, Option } from "effect"
import { audienceOf, legacyAlias } from "./Audience.js"
import { modifyKeepingBody } from "./BodyGuard.js"
import { errorBody } from "./Errors.js"

const respond = (url: string, status: number, message: string) =>
  Effect.map(errorBody(audienceOf(url), status, message), (body) => HttpServerResponse.unsafeJson(body, { status }))

const describeDecodeError = (error: HttpApiDecodeError) => {
  const issues = error.issues.map((issue) =>
    issue.path.length === 0 ? issue.message : `${issue.path.map(String).join(".")}: ${issue.message}`
  )
  return `Invalid request: ${issues.length > 0 ? issues.join("; ") : error.message}`
}

const isTagged = (value: unknown, tag: string): boolean =>
  typeof value === "object" && value !== null && "_tag" in value && value._tag === tag

/**
 * The envelope for a failure no declared error encoder takes: undecodable input (400), an
 * unknown route (404), an unreadable body (400) and defects (500, logged). Any other failure
 * and interruption go on as they are.
 */
export const answerUnhandled = (request: HttpServerRequest.HttpServerRequest) =>
(cause: Cause.Cause<unknown>): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    if (isTagged(error, "RouteNotFound")) {
      return respond(request.url, 404, `No route for ${request.method} ${request.url.split("?")[0]}`)
    }
    if (isTagged(error, "HttpApiDecodeError")) {
      return respond(request.url, 400, describeDecodeError(error as HttpApiDecodeError))
    }
    return Effect.failCause(cause as Cause.Cause<never>)
  }
  const defect = Cause.squash(cause)
  if (isTagged(defect, "RequestError")) {
    return respond(request.url, 400, "Invalid request: the body is not valid JSON or could not be read")
  }
  if (Cause.isInterruptedOnly(cause)) return Effect.failCause(cause as Cause.Cause<never>)
  return Effect.logError("unhandled defect", cause).pipe(
    Effect.zipRight(respond(request.url, 500, "Internal server error"))
  )
}

/**
 * Failures that are not declared endpoint errors still get the spec's envelope:
 * undecodable input (400), unknown routes (404, after trying the legacy `/api/v1` alias)
 * and defects (500, logged). Declared errors pass through to HttpApi's encoder.
 */
export const ErrorBoundaryLive = HttpApiBuilder.middleware((app) =>
  // Every request below the hot reads passes here: the request read from the fiber, no generator.
  Effect.withFiberRuntime((fiber) => {
    const request = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
    // The router's failures are untyped here (HttpApi types them as never).
    const routed: Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, HttpServerRequest.HttpServerRequest> = Effect.catchIf(
      app as Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, HttpServerRequest.HttpServerRequest>,
      (error) => isTagged(error, "RouteNotFound"),
      (notFound) => {
        const alias = legacyAlias(request.url)
        return alias === undefined
          ? Effect.fail(notFound)
          : Effect.provideService(app, HttpServerRequest.HttpServerRequest, modifyKeepingBody(request, alias))
      }
    )
    return Effect.catchAllCause(routed, answerUnhandled(request))
  })
)
