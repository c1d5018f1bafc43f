import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { Clock, Duration, Effect } from "effect"
import { failureText } from "../Http/UrlSecrets.js"
import { REDACTED } from "../Tenants/Domain.js"
import { parseRetryAfter } from "./Retry.js"

/** What one POST to a receiver came to; never a failure of the effect itself. */
export type Attempt =
  | { readonly _tag: "Accepted"; readonly status: number }
  | { readonly _tag: "Rejected"; readonly status: number | null; readonly error: string; readonly retryAfterMs: number | undefined }

/** A receiver has this long to answer with a 2xx. */
export const DELIVERY_TIMEOUT = Duration.seconds(15)

/** Stored as the row's last error and sent in `delivery_failed`: the endpoint's credential (`user:pass@`, `?token=`) left out. */
const describe = (error: unknown, url: string): string => failureText(error, REDACTED, url)

/**
 * POSTs `body` to `url` through `client` (the egress-guarded one) and classifies the answer:
 * a 2xx within the timeout is accepted; anything else (status, refusal, network error,
 * timeout) is rejected with what the receiver asked for in `Retry-After`.
 */
export const post = <E>(client: HttpClient.HttpClient.With<E>, url: string, headers: Record<string, string>, body: string) =>
  Effect.gen(function*() {
    const request = HttpClientRequest.post(url).pipe(
      HttpClientRequest.setHeaders(headers),
      HttpClientRequest.bodyText(body, "application/json")
    )
    const response = yield* client.execute(request).pipe(
      // The answer's body is not ours to keep; it is drained so the connection is reused.
      Effect.tap((res) => Effect.ignore(res.text)),
      Effect.timeoutFail({ duration: DELIVERY_TIMEOUT, onTimeout: () => new Error(`no answer within 15 s`) }),
      Effect.either
    )
    if (response._tag === "Left") {
      return { _tag: "Rejected", status: null, error: describe(response.left, url), retryAfterMs: undefined } satisfies Attempt
    }
    const res = response.right
    if (res.status >= 200 && res.status < 300) return { _tag: "Accepted", status: res.status } satisfies Attempt
    const now = yield* Clock.currentTimeMillis
    return {
      _tag: "Rejected",
      status: res.status,
      error: `answered ${res.status}`,
      retryAfterMs: parseRetryAfter(res.headers["retry-after"], now)
    } satisfies Attempt
  })
