import { Data } from "effect"
import type RequestClient from "twilio/lib/base/RequestClient"

/**
 * The `httpClient` twilio-node sends every request through (its RequestClient interface: only
 * `request` is called, by BaseTwilio.request). It sends to TWILIO_API_BASE_URL instead of
 * Twilio's hosts, so tests reach a fake Twilio on 127.0.0.1 over real HTTP, and it uses node's
 * fetch (pooled keep-alive connections) instead of the axios instance twilio-node would make.
 * Promise-based because that is the interface twilio-node calls; TwilioClient wraps the result.
 */

/** The request never got an HTTP answer: refused or dropped connection, DNS, or the timeout. */
export class TransportFailure extends Data.TaggedError("TwilioTransportFailure")<{
  readonly timedOut: boolean
  readonly detail: string
}> {}

export interface TransportResponse {
  readonly statusCode: number
  /** The raw body; twilio-node parses JSON itself (and raises its RestException on errors). */
  readonly body: string
  readonly headers: Record<string, string>
}

const TWILIO_ORIGIN = "https://api.twilio.com"

const isTwilioHost = (hostname: string) => hostname === "twilio.com" || hostname.endsWith(".twilio.com")

/**
 * The URL a request twilio-node addressed goes to. Every `*.twilio.com` origin becomes the base
 * URL (path and query kept); with the default base URL nothing changes, so requests to other
 * Twilio hosts (messaging, voice, ...) still reach them.
 */
export const targetUrl = (baseUrl: string, uri: string, params: object | undefined): string => {
  const url = new URL(uri)
  for (const [key, value] of encode(params)) url.searchParams.append(key, value)
  if (baseUrl === TWILIO_ORIGIN || !isTwilioHost(url.hostname)) return url.href
  return `${baseUrl}${url.pathname}${url.search}`
}

/** Twilio's form encoding: one pair per array element (qs's `arrayFormat: "repeat"`). */
const encode = (values: object | undefined): URLSearchParams => {
  const form = new URLSearchParams()
  for (const [key, value] of Object.entries(values ?? {})) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined || item === null) continue
      form.append(key, typeof item === "object" ? JSON.stringify(item) : String(item))
    }
  }
  return form
}

const requestBody = (opts: RequestClient.RequestOptions): string | undefined => {
  if (opts.data === undefined || opts.data === null) return undefined
  return opts.headers?.["Content-Type"] === "application/json" ? JSON.stringify(opts.data) : encode(opts.data).toString()
}

const failure = (cause: unknown, signal: AbortSignal): TransportFailure => {
  if (signal.aborted) return new TransportFailure({ timedOut: true, detail: "no answer in time" })
  // fetch reports network errors as TypeError("fetch failed") with the socket error as its cause.
  const inner = cause instanceof Error && cause.cause instanceof Error ? cause.cause : cause
  return new TransportFailure({ timedOut: false, detail: inner instanceof Error ? inner.message : String(inner) })
}

/** An httpClient for twilio-node that sends to `baseUrl` and gives up after `timeoutMs`. */
export const forwardingHttpClient = (baseUrl: string, timeoutMs: number) => ({
  request: (opts: RequestClient.RequestOptions): Promise<TransportResponse> => {
    const signal = AbortSignal.timeout(opts.timeout ?? timeoutMs)
    const headers = new Headers(opts.headers)
    if (opts.username !== undefined && opts.password !== undefined) {
      headers.set("Authorization", `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString("base64")}`)
    }
    return fetch(targetUrl(baseUrl, opts.uri, opts.params), {
      method: opts.method.toUpperCase(),
      headers,
      body: requestBody(opts),
      redirect: opts.allowRedirects === true ? "follow" : "manual",
      signal
    }).then((response) =>
      response.text().then((body) => ({ statusCode: response.status, body, headers: Object.fromEntries(response.headers) }))
    ).catch((cause) => Promise.reject(failure(cause, signal)))
  }
})
