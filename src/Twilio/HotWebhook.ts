import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Cause, Context, Effect, Either, Option, Schema, Tracer } from "effect"
import { AppConfig } from "../Config.js"
import { answerUnhandled } from "../Http/ErrorBoundary.js"
import { nameRoute } from "../Http/RouteSpan.js"
import { exportsSpans } from "../Observability/Spans.js"
import { parseSimpleQuery, SIMPLE_URL } from "../Http/SimpleQuery.js"
import { TwilioVoiceWebhookForm, WebhookError, WebhookQuery } from "./Api.js"
import { signedWebhook, type VoiceWebhook } from "./VoiceWebhook.js"
import { VoiceWebhooks } from "./Webhooks.js"

const ROUTE = "/api/v1/incoming-call"
const FORM = "application/x-www-form-urlencoded"

/** HttpApi reads the body as a form only for this media type (charset and the like aside). */
const isForm = (contentType: string | undefined) => {
  if (contentType === undefined) return false
  const semicolon = contentType.indexOf(";")
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase() === FORM
}

/** The group's declared text errors, by tag: each written with its own status and media type, as HttpApi writes it. */
const errorResponses = new Map<string, (message: string) => HttpServerResponse.HttpServerResponse>(
  Object.values(WebhookError).map((schema) => {
    const status = HttpApiSchema.getStatusError(schema)
    const { contentType } = HttpApiSchema.getEncoding(schema.ast)
    return [schema.to._tag, (message) => HttpServerResponse.text(message, { status, contentType })] as const
  })
)

const TWIML_TYPE = "text/xml"

/** What an answer may fail with: the group's declared errors (anything else is a defect's 500). */
type AnswerError = { readonly _tag: string; readonly message: string }

/** A webhook's answer as the response HttpApi would write for it (TwiML, a declared error, or the boundary's envelope). */
export const respondTo = <R>(request: HttpServerRequest.HttpServerRequest, answer: Effect.Effect<string, AnswerError, R>) =>
  Effect.matchCauseEffect(Effect.interruptible(answer), {
    onSuccess: (twiml) => Effect.succeed(HttpServerResponse.text(twiml, { status: 200, contentType: TWIML_TYPE })),
    onFailure: (cause) => {
      const failure = Cause.failureOption(cause)
      const write = Option.isSome(failure) ? errorResponses.get(failure.value._tag) : undefined
      return write === undefined || Option.isNone(failure)
        ? answerUnhandled(request)(cause)
        : Effect.succeed(write(failure.value.message))
    }
  })

const decodeQuery = Schema.decodeUnknownEither(WebhookQuery)
const decodeForm = Schema.decodeUnknownEither(TwilioVoiceWebhookForm)

/**
 * The webhook's query when this request is one the hot paths serve (POST to exactly the route,
 * a form, a URL that needs no decoding, a query that decodes), else undefined: HttpApi's.
 */
export const hotWebhookQuery = (method: string, url: string, contentType: string | undefined): VoiceWebhook["query"] | undefined => {
  if (method !== "POST" || !url.startsWith(ROUTE) || !isForm(contentType)) return undefined
  const queryAt = url.indexOf("?")
  if ((queryAt === -1 ? url.length : queryAt) !== ROUTE.length || !SIMPLE_URL.test(url)) return undefined
  const query = decodeQuery(parseSimpleQuery(queryAt === -1 ? "" : url.slice(queryAt + 1)))
  return Either.isLeft(query) ? undefined : query.right
}

/**
 * The form's fields as `UrlParams.toRecord(UrlParams.fromInput(...))` gives them, read straight
 * off the parsed body: those two copy every pair into arrays twice over before the record
 * (bench/RESULTS.md, stop 38 setupcpu). A repeated name, which toRecord makes an array the
 * form's schema refuses, is refused here at once (test/webhook-form.test.ts compares the two).
 */
const formRecord = (text: string): Record<string, string> | undefined => {
  // No prototype: a `__proto__` or `constructor` field is a field (the schema's output is a plain object).
  const fields: Record<string, string> = Object.create(null)
  for (const [name, value] of new URLSearchParams(text)) {
    if (fields[name] !== undefined) return undefined
    fields[name] = value
  }
  return fields
}

/** The webhook's form fields from the body's text, as HttpApi decodes them, or undefined when HttpApi should judge it. */
export const webhookForm = (text: string): VoiceWebhook["params"] | undefined => {
  const fields = formRecord(text)
  const params = fields === undefined ? undefined : decodeForm(fields)
  return params === undefined || Either.isLeft(params) ? undefined : params.right
}

/**
 * Twilio's incoming-call webhook (`POST /api/v1/incoming-call`) served in front of HttpApi's
 * router, as src/Http/HotReads.ts does for the hottest reads: a burst of calls is a burst of
 * these, and under HttpApi each one paid for the router, the merge of the group's services
 * into the handler's context, the (documenting-only) signature probe middleware and the
 * schema-driven response encoder (bench/RESULTS.md, "Webhook fast path").
 *
 * It runs the same pieces: the endpoint's own form schema, the same query schema, the same
 * `VoiceWebhooks.answer` (signature against the tenant's token, tenant resolution, set-up
 * shedding, admission, call record, stream token) and the group's own error statuses and
 * media types. Anything unusual is left to HttpApi, which answers it exactly as before: other
 * methods and paths (the legacy `/incoming-call` alias included), a URL that needs decoding,
 * a body that is not a form or does not decode, a repeated query parameter.
 */
export const makeHotWebhook = Effect.gen(function*() {
  const webhooks = yield* VoiceWebhooks
  const { publicBaseUrl } = yield* AppConfig

  /** The webhook from the request's form, or undefined when HttpApi should judge it. */
  const hookOf = (request: HttpServerRequest.HttpServerRequest, query: VoiceWebhook["query"]) =>
    Effect.map(Effect.either(request.text), (body): VoiceWebhook | undefined => {
      if (Either.isLeft(body)) return undefined
      const params = webhookForm(body.right)
      return params === undefined ? undefined : signedWebhook(publicBaseUrl, request, params, true, query)
    })

  /**
   * What the answer runs with: the request and the request's span (the webhook's spans and the
   * TwiML's traceparent hang under it), not the app's ~100 services, which every span and
   * `provideService` inside would copy (bench/RESULTS.md, "CPU per call during set-up"). The
   * answer's services were resolved when this was built; its type needs nothing more.
   */
  const answerContext = (context: Context.Context<never>, request: HttpServerRequest.HttpServerRequest) => {
    const request_ = Context.make(HttpServerRequest.HttpServerRequest, request)
    const span = Context.getOption(context, Tracer.ParentSpan)
    return Option.isSome(span) ? Context.add(request_, Tracer.ParentSpan, span.value) : request_
  }

  return <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
    Effect.withFiberRuntime<HttpServerResponse.HttpServerResponse, E, R | HttpServerRequest.HttpServerRequest>((fiber) => {
      const context = fiber.currentContext
      const request = Context.unsafeGet(context, HttpServerRequest.HttpServerRequest)
      const query = hotWebhookQuery(request.method, request.url, request.headers["content-type"])
      if (query === undefined) return app
      return Effect.flatMap(hookOf(request, query), (hook) => {
        if (hook === undefined) return app
        nameRoute(context, ROUTE)
        const answer = respondTo(request, webhooks.answer("inbound", hook))
        // Spans copy the context they are made in: for exported ones, the answer's is narrowed
        // first. Without, a warm answer makes none and needs no narrowing (each provide is 17 operations).
        return exportsSpans(fiber)
          ? Effect.mapInputContext(answer, (_: Context.Context<never>) => answerContext(context, request))
          : answer
      })
    })
})

export const HotWebhookLive = HttpApiBuilder.middleware(makeHotWebhook)
