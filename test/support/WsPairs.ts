import type { IncomingMessage } from "node:http"
import type { AddressInfo } from "node:net"
import { WebSocket, WebSocketServer } from "ws"

/** A client connected to a local ws server, and the server's end of it: its ws and upgrade request. */
export interface WsPair {
  readonly client: WebSocket
  readonly ws: WebSocket
  readonly request: IncomingMessage
}

/**
 * A local ws server (no compression) whose connections are handed out in order, for tests of
 * what we put on a real socket that ws owns, read back by ws's own parser on the other end.
 */
export const wsPairs = () => {
  let server: WebSocketServer | undefined
  let url = ""
  const accepted: Array<[WebSocket, IncomingMessage]> = []
  const waiting: Array<() => void> = []
  return {
    start: async () => {
      server = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false })
      server.on("connection", (ws, request) => {
        accepted.push([ws, request])
        waiting.shift()?.()
      })
      await new Promise((resolve) => server!.once("listening", resolve))
      url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`
    },
    stop: () => new Promise<void>((resolve) => server === undefined ? resolve() : server.close(() => resolve())),
    /** A new client, open, with the server's end of it. `onClient` runs before it opens (listeners that must see every message). */
    connect: async (onClient?: (client: WebSocket) => void): Promise<WsPair> => {
      const connected = new Promise<void>((resolve) => waiting.push(resolve))
      const client = new WebSocket(url, { perMessageDeflate: false })
      onClient?.(client)
      const opened = new Promise((resolve) => client.once("open", resolve))
      await connected
      const [ws, request] = accepted.shift()!
      await opened
      return { client, ws, request }
    }
  }
}

/** Waits (real time, at most ~1 s) until `check` holds; the caller asserts on it after. */
export const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5))
}
