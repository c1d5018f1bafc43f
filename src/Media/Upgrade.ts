import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import type { IncomingMessage } from "node:http"
import type { Duplex } from "node:stream"

const WEBSOCKET_KEY = /^[+/0-9A-Za-z]{22}==$/

/** A well-formed WebSocket handshake (RFC 6455 §4.2.1); anything else is the spec's 400. */
export const isWebSocketHandshake = (request: HttpServerRequest.HttpServerRequest): boolean => {
  const headers = request.headers
  return request.method === "GET" &&
    headers.upgrade?.toLowerCase() === "websocket" &&
    WEBSOCKET_KEY.test(headers["sec-websocket-key"] ?? "") &&
    headers["sec-websocket-version"] === "13" &&
    (headers.connection ?? "").toLowerCase().includes("upgrade")
}

/** Shared: `Buffer.alloc(0)` is a new ArrayBuffer each time, and ws keeps it for the socket's life. */
const NO_HEAD = Buffer.alloc(0)

export interface RawUpgrade {
  readonly incoming: IncomingMessage
  readonly socket: Duplex
  /** Bytes the client sent after the handshake, before our 101. */
  readonly head: Buffer
}

/**
 * Node caches the peer's address on the socket at the first `remoteAddress` read (the edge's,
 * per request) and keeps it for the socket's life: an object and a string per live call
 * (~0.09 KB). The call has its address already; node reads it again if anything asks.
 */
const forgetPeer = (socket: Duplex): void => {
  ;(socket as Duplex & { _peername?: object })._peername = undefined
}

/**
 * Takes the raw socket of an upgrade request away from the server so `ws` can own it.
 *
 * Our server (src/Http/NodeServer.ts, as @effect/platform-node's) runs upgrade requests through
 * the same app and then writes the handler's response on the socket through a lazily created
 * `ServerResponse` unless that response has already ended. So we create it now, detach it
 * from the socket (no bytes, no `finish` -> `socket.end()`), and end it: the server then skips
 * writing, and the socket is ours. The server's 'close' listener on the socket (interrupting
 * the request's fiber) is removed when that fiber ends, so the finished fiber is not held for
 * the call's life. The `head` Node hands to 'upgrade' listeners is not kept; it is always
 * empty for a conforming client, which sends no frame before it has read our 101.
 */
export const takeUpgradeSocket = (request: HttpServerRequest.HttpServerRequest): RawUpgrade => {
  const incoming = NodeHttpServerRequest.toIncomingMessage(request)
  const socket = incoming.socket
  const response = NodeHttpServerRequest.toServerResponse(request)
  response.removeAllListeners("finish")
  response.detachSocket(socket)
  response.end()
  forgetPeer(socket)
  return { incoming, socket, head: NO_HEAD }
}
