import { expect } from "@effect/vitest"
import * as HttpServer from "@effect/platform/HttpServer"
import { Effect } from "effect"
import * as net from "node:net"
import WebSocket from "ws"
import { NodeHooks } from "../src/Http/NodeHooks.js"
import { adminHeaders, request, serverSuite } from "./support/TestServer.js"

/**
 * The media-stream upgrade served off node's `upgrade` event (src/Media/PlainUpgrade.ts) when
 * no credential comes with it: its refusals are the route's answers with the edge's request id,
 * and its requests are counted in the request metrics, as on the request fibers' path (which a
 * `stream_token` in the query still takes).
 */

const port = Effect.map(HttpServer.HttpServer, (server) => server.address._tag === "TcpAddress" ? server.address.port : 0)

/** A handshake that is not one (a bad key), sent raw; resolves with the whole answer. */
const badHandshake = (at: number, path: string) =>
  Effect.async<string>((resume) => {
    const socket = net.connect(at, "127.0.0.1", () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nhost: voice.test\r\nconnection: Upgrade\r\nupgrade: websocket\r\n` +
          `sec-websocket-version: 13\r\nsec-websocket-key: not-a-key\r\nx-request-id: up-1\r\n\r\n`
      )
    })
    let answer = ""
    socket.on("data", (chunk) => {
      answer += chunk.toString("utf8")
    })
    socket.on("close", () => resume(Effect.succeed(answer)))
    return Effect.sync(() => socket.destroy())
  })

/** The answer's status line, x-request-id and body (headers like date left out). */
const essentials = (raw: string) => {
  const [head, body] = raw.split("\r\n\r\n")
  const lines = head!.split("\r\n")
  const requestId = lines.find((line) => line.toLowerCase().startsWith("x-request-id:"))
  return [lines[0], requestId?.toLowerCase(), body]
}

/** http_server_requests_total for GET answered 101. */
const upgradesCounted = Effect.map(request("GET", "/metrics", { headers: adminHeaders }), (res) =>
  res.text.split("\n")
    .filter((line) => line.startsWith("http_server_requests_total{") && line.includes("method=\"GET\"") && line.includes("status=\"101\""))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0))

serverSuite({ METRICS_ENABLED: "true" })("media-stream upgrade off node's upgrade event", (it) => {
  it.effect("a malformed handshake is the route's 400 with the request id, as on the fibers' path", () =>
    Effect.gen(function*() {
      expect((yield* NodeHooks).upgrade).toBeDefined()
      const at = yield* port
      const plain = essentials(yield* badHandshake(at, "/media-stream"))
      // A query token sends the upgrade through the request fibers' path (checked before the upgrade).
      const fibers = essentials(yield* badHandshake(at, "/media-stream?stream_token=abc"))
      expect(plain).toEqual(fibers)
      expect(plain).toEqual(["HTTP/1.1 400 Bad Request", "x-request-id: up-1", "Missing WebSocket upgrade headers"])
    }))

  it.effect("an accepted upgrade is counted in the request metrics (GET 101)", () =>
    Effect.gen(function*() {
      const at = yield* port
      const before = yield* upgradesCounted
      yield* Effect.async<void>((resume) => {
        const ws = new WebSocket(`ws://127.0.0.1:${at}/media-stream`)
        ws.on("open", () => ws.close())
        ws.on("close", () => resume(Effect.void))
        ws.on("error", () => resume(Effect.void))
      })
      expect((yield* upgradesCounted) - before).toBe(1)
    }))
})
