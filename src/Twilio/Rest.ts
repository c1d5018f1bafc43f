import { Duration, Effect, Option, Schema } from "effect"
import { type TwilioFailure, TwilioRejected, TwilioUnavailable } from "./Errors.js"

/**
 * Twilio's REST wire protocol over node's fetch (undici, pooled keep-alive connections): Basic
 * auth with the account SID and auth token, form-encoded bodies with Twilio's PascalCase names,
 * JSON answers, Twilio's error bodies (`code`, `message`, `more_info`) sorted into our two
 * failures. Every request goes to TWILIO_API_BASE_URL and is bounded by the request timeout.
 */

export interface TwilioCredentials {
  readonly accountSid: string
  readonly authToken: string
}

export interface RestRequest {
  readonly method: "GET" | "POST" | "DELETE"
  /** Path from the base URL (`/2010-04-01/Accounts/AC.../Calls.json`), query included. */
  readonly path: string
  /** Options in our camelCase names (src/Twilio/Options.ts), form-encoded for POST. */
  readonly form?: object
}

/** `statusCallbackEvent` -> `StatusCallbackEvent`: Twilio's names are ours with a capital. */
const wireName = (key: string) => key.charAt(0).toUpperCase() + key.slice(1)

/** Twilio's form encoding: one pair per array element, booleans as "true"/"false", nothing for undefined. */
export const encodeForm = (options: object): URLSearchParams => {
  const form = new URLSearchParams()
  for (const [key, value] of Object.entries(options)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined || item === null) continue
      form.append(wireName(key), String(item))
    }
  }
  return form
}

/** Twilio's error body (or RFC 9457 problem details, which newer Twilio APIs answer with). */
const TwilioErrorBody = Schema.Struct({
  code: Schema.optional(Schema.NullOr(Schema.Number)),
  message: Schema.optional(Schema.NullOr(Schema.String)),
  detail: Schema.optional(Schema.NullOr(Schema.String)),
  more_info: Schema.optional(Schema.NullOr(Schema.String))
})
const errorBody = Schema.decodeUnknownOption(Schema.parseJson(TwilioErrorBody))

/** A non-2xx answer: 429 and 5xx are worth retrying, anything else is Twilio saying no. */
export const failureOf = (status: number, body: string): TwilioFailure => {
  const parsed = Option.getOrElse(errorBody(body), () => ({} as typeof TwilioErrorBody.Type))
  const message = parsed.detail ?? parsed.message ?? `Twilio answered HTTP ${status}`
  // 0 is Twilio's "no code" in some answers.
  const code = parsed.code === undefined || parsed.code === null || parsed.code === 0 ? null : parsed.code
  return status >= 500 || status === 429
    ? new TwilioUnavailable({ httpStatus: status, code, message })
    : new TwilioRejected({ httpStatus: status, code, message, moreInfo: parsed.more_info ?? null })
}

/** A request we refuse to send, as Twilio would refuse it. */
export const notSent = (reason: string) =>
  new TwilioRejected({ httpStatus: 400, code: null, message: `request not sent: ${reason}`, moreInfo: null })

/** A SID or conference name as one path segment; `/`, `?`, `#` or dot segments could address another resource. */
export const segment = (value: string, what: string): Effect.Effect<string, TwilioRejected> =>
  value === "" || value === "." || value === ".." || /[/?#]/.test(value)
    ? Effect.fail(notSent(`${what} ${JSON.stringify(value)} is not a valid path parameter`))
    : Effect.succeed(encodeURIComponent(value))

/** `/2010-04-01/Accounts/{AccountSid}`, for an `AC...` SID only (Twilio answers 401 to anything else). */
export const accountPath = (credentials: TwilioCredentials) =>
  !credentials.accountSid.startsWith("AC")
    ? Effect.fail(
      new TwilioRejected({ httpStatus: 401, code: null, message: "Twilio account SID must start with AC", moreInfo: null })
    )
    : Effect.map(segment(credentials.accountSid, "account SID"), (sid) => `/2010-04-01/Accounts/${sid}`)

const unreachable = (cause: unknown) => {
  // fetch reports network errors as TypeError("fetch failed") with the socket error as its cause.
  const inner = cause instanceof Error && cause.cause instanceof Error ? cause.cause : cause
  const detail = inner instanceof Error ? inner.message : String(inner)
  return new TwilioUnavailable({ httpStatus: null, code: null, message: `Twilio is unreachable: ${detail}` })
}

const unreadable = () =>
  new TwilioUnavailable({ httpStatus: null, code: null, message: "Twilio answered something unreadable" })

const parseJson = Schema.decodeUnknown(Schema.parseJson())

/**
 * Sends one request with these credentials; the answer's JSON (null for 204). Interrupting it
 * (the timeout does) aborts the request; a request that timed out may still have acted.
 */
export const sendRequest = (baseUrl: string, timeoutMs: number) =>
(credentials: TwilioCredentials, request: RestRequest): Effect.Effect<unknown, TwilioFailure> => {
  const headers: Record<string, string> = {
    Authorization: `Basic ${Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString("base64")}`,
    Accept: "application/json"
  }
  let body: string | undefined
  if (request.method === "POST") {
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    body = encodeForm(request.form ?? {}).toString()
  }
  return Effect.tryPromise({
    try: (signal) =>
      fetch(`${baseUrl}${request.path}`, { method: request.method, headers, body, redirect: "manual", signal }).then(
        (response) => response.text().then((text) => ({ status: response.status, text }))
      ),
    catch: unreachable
  }).pipe(
    Effect.timeoutFail({
      duration: Duration.millis(timeoutMs),
      onTimeout: () =>
        new TwilioUnavailable({
          httpStatus: null,
          code: null,
          message: "Twilio is unreachable: no answer in time",
          outcomeUnknown: true
        })
    }),
    Effect.flatMap(({ status, text }): Effect.Effect<unknown, TwilioFailure> => {
      if (status < 200 || status >= 300) return Effect.fail(failureOf(status, text))
      if (status === 204 || (text === "" && request.method === "DELETE")) return Effect.succeed(null)
      return Effect.mapError(parseJson(text), unreadable)
    })
  )
}
