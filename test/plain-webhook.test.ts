import { expect, layer } from "@effect/vitest"
import * as HttpServer from "@effect/platform/HttpServer"
import { ConfigProvider, Effect, Layer } from "effect"
import * as net from "node:net"
import { AppConfig } from "../src/Config.js"
import { NodeHooks } from "../src/Http/NodeHooks.js"
import { TelemetryLive } from "../src/Telemetry.js"
import { startFakeTwilio } from "./support/FakeTwilio.js"
import { accountSid, FakeTwilioServer, inboundCall, routedTwilioTenant, sign, twilioWebhook } from "./support/FakeTwilioServer.js"
import { adminHeaders, makeTestServer, request } from "./support/TestServer.js"

/**
 * The edge's duties on the webhook served off node's request event (src/Twilio/PlainWebhook.ts,
 * tracing off as in production): the request id, the request metrics, the in-flight count that
 * shedding reads, and the body's bounds, whose refusals the Effect edge writes from the body
 * the plain path already read. Each is compared with what the request fibers' path answers.
 */

const TOKEN = "plainwh-twilio-auth-token"
const SID = accountSid("plainwh")
const NUMBER = "+15550004200"
const BODY_LIMIT = 4096

const productionTelemetry = TelemetryLive.pipe(
  Layer.provide(Layer.fresh(AppConfig.Default)),
  Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map())))
)

const CONFIG = {
  METRICS_ENABLED: "true",
  HTTP_BODY_LIMIT_BYTES: String(BODY_LIMIT),
  HTTP_BODY_TIMEOUT_MS: "1500",
  HTTP_MAX_IN_FLIGHT: "1"
}

const server = Layer.unwrapScoped(Effect.map(startFakeTwilio, (fake) =>
  Layer.merge(
    makeTestServer({ TWILIO_API_BASE_URL: fake.baseUrl, ...CONFIG }).pipe(Layer.provide(productionTelemetry)),
    Layer.succeed(FakeTwilioServer, fake)
  ))).pipe((built) =>
    Layer.provideMerge(
      Layer.effectDiscard(routedTwilioTenant("plainwh", { accountSid: SID, authToken: TOKEN }, { phoneNumber: NUMBER })),
      built
    ))

const ROUTE = "/api/v1/incoming-call"

const signedCall = (path = ROUTE, headers: Record<string, string> = {}) => {
  const params = inboundCall(NUMBER, SID)
  return twilioWebhook(path, params, { signature: sign(TOKEN, path, params), headers })
}

/** http_server_requests_total for POST and `status` (0 before the first). */
const requestsCounted = (status: number) =>
  Effect.map(request("GET", "/metrics", { headers: adminHeaders }), (res) =>
    res.text.split("\n")
      .filter((line) =>
        line.startsWith("http_server_requests_total{") && line.includes("method=\"POST\"") && line.includes(`status="${status}"`))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0))

/** The server's port, for requests the HTTP client cannot send (a body that stops arriving). */
const port = Effect.map(HttpServer.HttpServer, (server) => server.address._tag === "TcpAddress" ? server.address.port : 0)

/** Sends the head and `partial` of a body of `declared` bytes, then nothing more; resolves with the raw answer. */
const stalledBody = (at: number, path: string, declared: number, partial: string) =>
  Effect.async<string>((resume) => {
    const socket = net.connect(at, "127.0.0.1", () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nhost: voice.test\r\ncontent-type: application/x-www-form-urlencoded\r\n` +
          `content-length: ${declared}\r\nx-request-id: stalled-1\r\n\r\n${partial}`
      )
    })
    let answer = ""
    socket.on("data", (chunk) => {
      answer += chunk.toString("utf8")
      if (answer.includes("\r\n\r\n")) socket.destroy()
    })
    socket.on("close", () => resume(Effect.succeed(answer)))
    return Effect.sync(() => socket.destroy())
  })

layer(server, { excludeTestServices: true })("incoming-call off node's request event: the edge's duties", (it) => {
  it.effect("is the path that serves the webhook here", () =>
    Effect.gen(function*() {
      expect((yield* NodeHooks).request).toBeDefined()
    }))

  it.effect("echoes a sane x-request-id, replaces any other, and counts the request in the metrics", () =>
    Effect.gen(function*() {
      const before = yield* requestsCounted(200)
      const echoed = yield* signedCall(ROUTE, { "x-request-id": "twilio-req.1:a" })
      expect([echoed.status, echoed.headers["x-request-id"]]).toEqual([200, "twilio-req.1:a"])
      expect(echoed.text).toContain("<Connect>")
      const replaced = yield* signedCall(ROUTE, { "x-request-id": "has spaces and {braces}" })
      expect(replaced.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/)
      const fresh = yield* signedCall()
      expect(fresh.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/)
      expect(fresh.headers["x-request-id"]).not.toEqual(replaced.headers["x-request-id"])
      // The metrics endpoint is read by a GET: only the three webhooks are POSTs answered 200.
      expect((yield* requestsCounted(200)) - before).toBe(3)
    }))

  it.effect("a body over the limit, declared or not, is the edge's 413 as on the fibers' path", () =>
    Effect.gen(function*() {
      const big = `${new URLSearchParams(inboundCall(NUMBER, SID)).toString()}&Pad=${"x".repeat(BODY_LIMIT)}`
      const headers = { "content-type": "application/x-www-form-urlencoded", "x-request-id": "big-1" }
      const answers = yield* Effect.forEach([ROUTE, "/incoming-call"], (path) =>
        Effect.map(request("POST", path, { headers, body: big }), (res) => [res.status, res.headers["x-request-id"], res.body]))
      expect(answers[0]).toEqual(answers[1])
      expect(answers[0]![0]).toBe(413)
      expect(answers[0]![2]).toMatchObject({ success: false, code: "PAYLOAD_TOO_LARGE", request_id: "big-1" })
    }))

  it.effect("a body that stops arriving holds its in-flight count (others are shed) and is the edge's 408", () =>
    Effect.gen(function*() {
      const at = yield* port
      // HTTP_MAX_IN_FLIGHT=1: while the stalled webhook's body is awaited, it holds the one place.
      const stalled = yield* Effect.fork(stalledBody(at, ROUTE, 200, "CallSid=CA1"))
      yield* Effect.sleep("300 millis")
      const shed = yield* signedCall()
      expect([shed.status, shed.headers["retry-after"]]).toEqual([503, "1"])
      expect(shed.body).toMatchObject({ success: false, code: "SERVICE_UNAVAILABLE", request_id: shed.headers["x-request-id"] })
      const answer = yield* stalled.await.pipe(Effect.flatten)
      expect(answer).toMatch(/^HTTP\/1\.1 408 /)
      expect(answer.toLowerCase()).toContain("x-request-id: stalled-1")
      // Released: the next webhook is served.
      expect((yield* signedCall()).status).toBe(200)
    }))
})
