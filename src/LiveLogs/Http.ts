import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Clock, Effect } from "effect"
import { type WebSocket, WebSocketServer } from "ws"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { errorBody } from "../Http/Errors.js"
import { isWebSocketHandshake, takeUpgradeSocket } from "../Media/Upgrade.js"
import { chooseProtocol } from "./BrowserAuth.js"
import { LiveLogsConfig } from "./Config.js"
import { LogsStatsResponse } from "./Api.js"
import { LiveLogs, type Subscriber } from "./LiveLogs.js"

/** A subscriber that does not read fast enough is closed with this (4000-4999: application codes). */
export const CLOSE_SLOW_SUBSCRIBER = 4008
/** How long a slow subscriber's close handshake may take before its socket is destroyed. */
const CLOSE_GRACE_MS = 5_000


/**
 * `GET /api/v1/logs` (TenantAuth first: a bad or missing key is 401 before any upgrade) hands
 * the socket to `ws`, like `/media-stream`. Frames are sent, never awaited: a socket whose
 * unsent bytes pass LIVE_LOGS_SUBSCRIBER_BUFFER_BYTES is closed, the calls never wait on it.
 */
export const LogsHttp = HttpApiBuilder.group(Api, "logs", (handlers) =>
  Effect.gen(function*() {
    const logs = yield* LiveLogs
    const config = yield* LiveLogsConfig
    const wss = yield* Effect.acquireRelease(
      Effect.sync(() => new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 4_096, handleProtocols: chooseProtocol })),
      (server) =>
        Effect.sync(() => {
          for (const client of server.clients) client.terminate()
          server.close()
        })
    )
    const runFork = Effect.runFork

    return handlers
      .handleRaw("logsWs", ({ request }) =>
        Effect.gen(function*() {
          if (!isWebSocketHandshake(request)) {
            // A plain GET is the caller's mistake: the tenant error envelope, like every other endpoint.
            return HttpServerResponse.unsafeJson(
              yield* errorBody("tenant", 400, "GET /api/v1/logs is a WebSocket: send the upgrade headers"),
              { status: 400 }
            )
          }
          const tenant = yield* CurrentTenant
          const raw = takeUpgradeSocket(request)
          let upgraded: WebSocket | undefined
          wss.handleUpgrade(raw.incoming, raw.socket, raw.head, (ws) => (upgraded = ws))
          if (upgraded === undefined) return HttpServerResponse.empty({ status: 400 })
          const ws = upgraded
          const subscriber: Subscriber = {
            send: (frame) => {
              if (ws.readyState !== ws.OPEN) return
              if (ws.bufferedAmount > config.subscriberBufferBytes) {
                ws.close(CLOSE_SLOW_SUBSCRIBER, "subscriber too slow: events were not read")
                setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref()
                return
              }
              ws.send(frame)
            }
          }
          const admitted = yield* logs.subscribe(tenant.tenantId, subscriber)
          if (!admitted) {
            ws.close(1013, "too many log subscribers for this tenant")
            return HttpServerResponse.empty({ status: 101 })
          }
          // Whatever closes it (the client, a slow read, shutdown), the subscriber leaves.
          const leave = () => runFork(logs.unsubscribe(tenant.tenantId, subscriber))
          ws.on("close", leave)
          ws.on("error", () => ws.terminate())
          // The stream sends; what a client sends is ignored.
          ws.on("message", () => {})
          // Closing started before `close` fires: leave now so nobody counts a closing socket.
          const close = ws.close.bind(ws)
          ws.close = (code?: number, reason?: string | Buffer) => {
            leave()
            close(code, reason)
          }
          const now = new Date(yield* Clock.currentTimeMillis).toISOString()
          ws.send(JSON.stringify({ type: "connected", tenant_id: tenant.tenantId, timestamp: now }))
          return HttpServerResponse.empty({ status: 101 })
        }))
      .handle("logsStats", () =>
        Effect.gen(function*() {
          const tenant = yield* CurrentTenant
          return new LogsStatsResponse({
            ok: true,
            tenant: tenant.tenantId,
            connectedClients: yield* logs.connectedClients(tenant.tenantId),
            timestamp: new Date(yield* Clock.currentTimeMillis).toISOString()
          })
        }))
  })
)
