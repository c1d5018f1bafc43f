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
 * Takes the raw socket of an upgrade request away from the platform so `ws` can own it.
 *
 * @effect/platform-node runs upgrade requests through the same app and then writes the
 * handler's response on the socket through a lazily created `ServerResponse` (see
 * `makeUpgradeHandler` in its internal/httpServer.ts) unless that response has already
 * ended. So we create it now, detach it from the socket (no bytes, no `finish` ->
 * `socket.end()`), and end it: the platform then skips writing, and the socket is ours.
 * The `head` Node hands to 'upgrade' listeners is not kept by the platform; it is always
 * empty for a conforming client, which sends no frame before it has read our 101.
 */
export const takeUpgradeSocket = (request: HttpServerRequest.HttpServerRequest): RawUpgrade => {
  const incoming = NodeHttpServerRequest.toIncomingMessage(request)
  const socket = incoming.socket
  const response = NodeHttpServerRequest.toServerResponse(request)
  response.removeAllListeners("finish")
  response.detachSocket(socket)
  response.end()
  setImmediate(dropRequestFiberListener, socket)
  return { incoming, socket, head: NO_HEAD }
}

/**
 * The platform's upgrade handler (same function) also puts a 'close' listener on the socket
 * that interrupts the request's fiber if the socket closes before a response was written.
 * Ours is written (ended) at once and the fiber finishes with the 101, so the listener would
 * interrupt nothing, but it holds that finished fiber (its services, the request, the
 * response) for as long as the socket lives: the whole call, some kilobytes each. It is added
 * right after the fiber is forked, which is after this runs when the handler does not wait:
 * hence the next turn of the loop. Found by its body; a platform without it loses nothing.
 */
const dropRequestFiberListener = (socket: Duplex) => {
  for (const listener of socket.listeners("close")) {
    if (Function.prototype.toString.call(listener).includes("unsafeInterruptAsFork")) {
      socket.removeListener("close", listener as (...args: Array<unknown>) => void)
    }
  }
}
