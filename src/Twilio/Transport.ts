import { Effect } from "effect"
import * as http from "node:http"
import * as https from "node:https"
import { TwilioUnavailable } from "./Errors.js"

/**
 * One HTTP exchange with Twilio over node:https (node:http for a local TWILIO_API_BASE_URL).
 * Not node's `fetch`: its undici is loaded lazily and synchronously at the first request
 * (~9 MB resident, 350-450 ms of blocked event loop on the loaded test machine, i.e. every live
 * call's audio), while node:https is already loaded by `ws` and `pg`.
 */

export interface Exchange {
  readonly status: number
  readonly text: string
}

/** Idle pooled connections close after this (undici's default); a server's Keep-Alive hint may shorten it. */
const IDLE_SOCKET_MS = 4_000

/** A keep-alive connection pool for the base URL's scheme. */
export const makeAgent = (baseUrl: string): http.Agent =>
  new (baseUrl.startsWith("https:") ? https.Agent : http.Agent)({ keepAlive: true, timeout: IDLE_SOCKET_MS })

const unreachable = (cause: Error) =>
  new TwilioUnavailable({ httpStatus: null, code: null, message: `Twilio is unreachable: ${cause.message}` })

/**
 * Sends the request and reads the whole answer. No answer (refused, reset, DNS) is
 * TwilioUnavailable; interrupting it (the request timeout does) destroys the request.
 */
export const exchange = (
  agent: http.Agent,
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined
): Effect.Effect<Exchange, TwilioUnavailable> =>
  Effect.async<Exchange, TwilioUnavailable>((resume) => {
    let settled = false
    const settle = (result: Effect.Effect<Exchange, TwilioUnavailable>) => {
      if (settled) return
      settled = true
      resume(result)
    }
    const send = url.startsWith("https:") ? https.request : http.request
    let request: http.ClientRequest
    try {
      request = send(url, { method, headers, agent }, (response) => {
        const chunks: Array<Buffer> = []
        response.on("data", (chunk: Buffer) => chunks.push(chunk))
        response.on("error", (cause) => settle(Effect.fail(unreachable(cause))))
        response.on("end", () =>
          settle(Effect.succeed({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }))
        )
        // Closed before the end (connection dropped mid-answer) without an error event.
        response.on("close", () => {
          if (!response.complete) settle(Effect.fail(unreachable(new Error("connection closed mid-answer"))))
        })
      })
    } catch (cause) {
      // node refused to build it (an invalid header value): nothing was sent.
      settle(Effect.fail(unreachable(cause instanceof Error ? cause : new Error(String(cause)))))
      return
    }
    request.on("error", (cause) => settle(Effect.fail(unreachable(cause))))
    request.end(body)
    return Effect.sync(() => {
      settled = true
      request.destroy()
    })
  })
