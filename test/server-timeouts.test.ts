import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { connect } from "node:net"
import { WebSocket } from "ws"
import { within } from "./support/Bounded.js"
import { startReplica } from "./support/Replicas.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"

/** Writes `text` and never finishes the request; resolves with what the server wrote and when it closed. */
const slowClient = (baseUrl: string, text: string) =>
  Effect.promise(() =>
    new Promise<{ readonly answer: string; readonly ms: number }>((resolve) => {
      const url = new URL(baseUrl)
      const started = Date.now()
      const socket = connect(Number(url.port), url.hostname)
      let answer = ""
      const give = setTimeout(() => socket.destroy(), 10_000)
      socket.on("data", (data) => (answer += data.toString()))
      socket.on("close", () => {
        clearTimeout(give)
        resolve({ answer, ms: Date.now() - started })
      })
      socket.write(text)
    })
  )

describe("the Node server's own timeouts (src/main.ts)", () => {
  it.live("headers that never finish get 408 and a closed connection, within the configured time", () =>
    Effect.gen(function*() {
      const replica = yield* startReplica(yield* testDatabaseUrl, {
        HTTP_HEADERS_TIMEOUT_MS: "1000",
        HTTP_REQUEST_TIMEOUT_MS: "2000"
      })
      const slow = yield* slowClient(replica.baseUrl, "GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nx-slow: 1\r\n")
      expect(slow.answer).toMatch(/^HTTP\/1\.1 408/)
      expect(slow.ms).toBeLessThan(4_000)
    }).pipe(Effect.scoped), 60_000)

  it.live("an upgraded media socket is not cut by the request timeout (it lives as long as the call)", () =>
    Effect.gen(function*() {
      const replica = yield* startReplica(yield* testDatabaseUrl, {
        HTTP_REQUEST_TIMEOUT_MS: "1000",
        MEDIA_BOOTSTRAP_TIMEOUT_MS: "4000"
      })
      const closed = yield* Effect.promise(() =>
        within(30_000, "the silent media socket to be closed by the service", new Promise<{ readonly code: number; readonly ms: number }>((resolve, reject) => {
          const started = Date.now()
          const ws = new WebSocket(`${replica.baseUrl.replace("http", "ws")}/media-stream`)
          ws.on("close", (code) => resolve({ code, ms: Date.now() - started }))
          ws.on("error", reject)
        }))
      )
      // Closed by the service's own bootstrap timeout (1008 after 4 s), not by Node at 1-2 s.
      expect(closed.code).toBe(1008)
      expect(closed.ms).toBeGreaterThanOrEqual(3_500)
    }).pipe(Effect.scoped), 60_000)
})
