import * as Headers from "@effect/platform/Headers"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"

/**
 * Browsers cannot set headers on a WebSocket, so the console offers its bearer credential as
 * a subprotocol: `new WebSocket(url, ["stateset.logs", "bearer.<token>"])`. The server
 * answers with `stateset.logs` only; the token never appears in a URL (or an access log).
 */
export const LOGS_PROTOCOL = "stateset.logs"
const BEARER_PREFIX = "bearer."

/** The request with `authorization` taken from its subprotocols, when it has none of its own. */
export const withSubprotocolBearer = (request: HttpServerRequest.HttpServerRequest): HttpServerRequest.HttpServerRequest => {
  if (request.headers.authorization !== undefined || !request.url.startsWith("/api/v1/logs")) return request
  const offered = request.headers["sec-websocket-protocol"]
  if (offered === undefined) return request
  const bearer = offered.split(",").map((p) => p.trim()).find((p) => p.startsWith(BEARER_PREFIX))
  if (bearer === undefined || bearer.length === BEARER_PREFIX.length) return request
  return request.modify({
    headers: Headers.set(request.headers, "authorization", `Bearer ${bearer.slice(BEARER_PREFIX.length)}`)
  })
}

/** `ws`'s protocol choice: ours when offered, none otherwise (clients sending none get none). */
export const chooseProtocol = (protocols: Set<string>): string | false => protocols.has(LOGS_PROTOCOL) ? LOGS_PROTOCOL : false
