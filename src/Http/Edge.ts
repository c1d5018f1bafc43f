import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { type Cause, Clock, Context, Effect, Either, FiberRef, Layer, Option } from "effect"
import { type RateLimitDecision, RateLimiter } from "../Auth/RateLimit.js"
import { AppConfig } from "../Config.js"
import { audienceOf, exemptFromIpLimit } from "./Audience.js"
import { DISCARDABLE_BODY_BYTES, guardBody, guardWithoutBody } from "./BodyGuard.js"
import { resolveClientAddress } from "./TrustProxy.js"
import { errorBody } from "./Errors.js"
import { CurrentRequest, type RequestContext } from "./RequestContext.js"
import { accessOf, EdgeState, finish } from "./EdgeState.js"
import { withSubprotocolBearer } from "../LiveLogs/BrowserAuth.js"
import { writeAccessLine } from "../Observability/JsonLog.js"

/** Whether a refusal can keep the connection: its unread body is discarded, not reset (below). */
const keepsConnection = (request: HttpServerRequest.HttpServerRequest, status: number) => {
  if (status === 400) return true
  if (status !== 413) return false
  const length = request.headers["content-length"]
  // No declared length: the body guard reads and drops what still arrives, bounded.
  if (length === undefined) return true
  const declared = Number(length)
  return Number.isInteger(declared) && declared <= DISCARDABLE_BODY_BYTES
}

/**
 * The edge's response headers (request id, Retry-After), for every response of a request that
 * has a context. Installed once for the server's fibers (`withEdgeHeaders`) instead of appended
 * per request: the platform runs it just before writing the response, including the ones the
 * inner app writes itself (errors included).
 */
const edgeHeaders = (_request: HttpServerRequest.HttpServerRequest, response: HttpServerResponse.HttpServerResponse) =>
  Effect.withFiberRuntime<HttpServerResponse.HttpServerResponse>((fiber) => {
    const context = fiber.getFiberRef(CurrentRequest)
    return Effect.succeed(context === undefined ? response : finish(response, context))
  })

/** The server layer with the edge's response headers on every request fiber it runs. */
export const withEdgeHeaders = <A, E, R>(layer: Layer.Layer<A, E, R>) =>
  Layer.locally(layer, HttpApp.currentPreResponseHandlers, Option.some(edgeHeaders))

/**
 * `app` with `request` as the request fiber's request from here on: the fiber is made for this
 * request and ends with it, so its context is replaced in place rather than provided
 * (three steps; `provideService` is 17 operations, to restore on exit a context nothing reads afterwards).
 */
const withRequest = <E, R>(app: HttpApp.Default<E, R>, request: HttpServerRequest.HttpServerRequest): HttpApp.Default<E, R> =>
  Effect.zipRight(
    FiberRef.update(FiberRef.currentContext, (context) => Context.add(context, HttpServerRequest.HttpServerRequest, request)),
    app
  )

/**
 * The outermost middleware: gives every request an id (echoed in `x-request-id` and in
 * every log line), sheds load, applies the per-address rate limit and concurrency cap, guards
 * the body and writes the access log.
 *
 * Every request pays for this, so it is plain code around as few Effect operations as it can
 * be (bench/RESULTS.md, "Edge and tenant authentication"): one `withFiberRuntime` reads the
 * request and the clock and decides admission (a rate-limit hit while the lease lasts is a map
 * read; PostgreSQL only for a new lease); the request context is set on the request's own
 * fiber (made for this request, ends with it); one `matchCauseEffect` releases both in-flight
 * counts and records the metrics; the access line's fields ride on the request context to the
 * JSON logger (no fiber-ref update). Needs `withEdgeHeaders` on the server layer.
 */
export const makeEdge = Effect.gen(function*() {
  const config = yield* AppConfig
  const limiter = yield* RateLimiter
  const edge = yield* EdgeState
  const { bodyLimits } = edge

  const refuse = (request: HttpServerRequest.HttpServerRequest, context: RequestContext, status: number, message: string, headers?: Record<string, string>) =>
    Effect.map(errorBody(audienceOf(request.url), status, message), (body) =>
      finish(HttpServerResponse.unsafeJson(body, headers === undefined ? { status } : { status, headers }), context))

  /** The body guard's verdict: the request the app sees, or the refusal. */
  const afterGuard = <E, R>(
    app: HttpApp.Default<E, R>,
    received: HttpServerRequest.HttpServerRequest,
    request: HttpServerRequest.HttpServerRequest,
    context: RequestContext,
    guarded: Either.Either<HttpServerRequest.HttpServerRequest, { readonly status: number; readonly message: string }>
  ): HttpApp.Default<E, R> => {
    if (Either.isLeft(guarded)) {
      const { message, status } = guarded.left
      // A slow or endless body must not keep the connection busy: closed after the answer.
      // A body merely too large is read to its end and dropped after the answer instead (by
      // node for a declared length, by the body guard for a chunked one; both bounded):
      // closing on unread data resets the connection and the client may never see its 413.
      return refuse(request, context, status, message, keepsConnection(request, status) ? undefined : { connection: "close" })
    }
    // A request the edge did not change (no client address behind a proxy, no subprotocol
    // credential, no body to guard) is already in the context; any other replaces it.
    return guarded.right === received ? app : withRequest(app, guarded.right)
  }

  return <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
    Effect.withFiberRuntime<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest>((fiber) => {
      const received = Context.unsafeGet(fiber.currentContext, HttpServerRequest.HttpServerRequest)
      const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
      const started = clock.unsafeCurrentTimeMillis()
      // Everything after the edge sees the client's address as the request's remote address.
      const peer = Option.getOrElse(received.remoteAddress, () => "unknown")
      const address = resolveClientAddress(config.trustProxy, peer, received.headers)
      // A browser's log subscription carries its credential as a subprotocol (LiveLogs/BrowserAuth.ts).
      const request = withSubprotocolBearer(address === peer ? received : received.modify({ remoteAddress: address }))
      const context = edge.contextFor(request.headers["x-request-id"])
      /** Whether this request holds the replica's count, and the address whose count it holds. */
      let entered = false
      let countedAddress: string | undefined

      const serve = (counted: boolean): HttpApp.Default<E, R> => {
        // The request fiber runs uninterruptibly here (HttpApp.toHandled), so nothing can stop it
        // between counting and the release below.
        entered = true
        if (counted) countedAddress = address
        edge.enter(countedAddress)
        const guarded = guardWithoutBody(request)
        return guarded !== undefined
          ? afterGuard(app, received, request, context, guarded)
          : Effect.flatMap(guardBody(request, bodyLimits), (read) => afterGuard(app, received, request, context, read))
      }

      const decide = (decision: RateLimitDecision): HttpApp.Default<E, R> => {
        if (!decision.allowed) {
          context.retryAfterSeconds = decision.retryAfterSeconds
          return refuse(request, context, 429, "Rate limit exceeded for this address")
        }
        if (edge.concurrentFrom(address) >= edge.maxConcurrentPerAddress) {
          context.retryAfterSeconds = 1
          return refuse(request, context, 429, "Too many concurrent requests from this address")
        }
        return serve(true)
      }

      const admission = (): HttpApp.Default<E, R> => {
        // Over capacity, queueing only grows latency and memory: shed the request at once
        // (this request is not counted yet: at most HTTP_MAX_IN_FLIGHT are served at a time).
        if (edge.sheds(request.url)) {
          return refuse(request, context, 503, "Server busy; retry shortly", { "retry-after": "1" })
        }
        if (exemptFromIpLimit(request.url)) return serve(false)
        const bucket = `ip:${address}`
        const decision = limiter.tryHit(bucket, started)
        return decision !== undefined ? decide(decision) : Effect.flatMap(limiter.hit(bucket, config.rateLimitPerIpPerMinute), decide)
      }

      const answered = (response: HttpServerResponse.HttpServerResponse) => {
        if (entered) edge.release(countedAddress)
        const elapsed = clock.unsafeCurrentTimeMillis() - started
        edge.measure(request.method, response.status, elapsed)
        const { access, level } = accessOf(request.method, request.url, response.status, elapsed, address)
        // Usually written straight to stdout (the same line); through the logger otherwise.
        if (writeAccessLine(fiber, level, context, access, clock.unsafeCurrentTimeMillis())) return Effect.succeed(response)
        context.access = access
        return Effect.map(Effect.logWithLevel(level, "http request"), () => {
          context.access = undefined
          return response
        })
      }

      const failed = (cause: Cause.Cause<E>) => {
        if (entered) edge.release(countedAddress)
        return Effect.failCause(cause)
      }

      // Admission is decided now (counts included); its refusals read the context when they run.
      const admitted = admission()
      // The JSON logger adds request_id (and tenant_id) from this context to every line (Observability/JsonLog.ts).
      // The counts are released in the continuation of `matchCauseEffect`: it runs however the
      // app ends because the request fiber is uninterruptible here (the app opts in to
      // interruption inside), as an `ensuring` would.
      return Effect.zipRight(
        FiberRef.set(CurrentRequest, context),
        Effect.matchCauseEffect(admitted, { onFailure: failed, onSuccess: answered })
      )
    })
})
