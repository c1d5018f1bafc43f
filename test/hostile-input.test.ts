import { expect } from "@effect/vitest"
import * as HttpServer from "@effect/platform/HttpServer"
import { Effect } from "effect"
import { connect } from "node:net"
import { createTenant } from "./support/AgentFixtures.js"
import { rawExchange, type RawExchange, requestHead } from "./support/RawHttp.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, bearer, request, serverSuite } from "./support/TestServer.js"

/** Issue 7's table, replayed: every hostile request is answered fast, with a 4xx and the envelope. */

const TENANT = "hostile"
const TOKEN = `token-${TENANT}-0123456789abcdef`
const auth = { ...bearer(TOKEN) }

/** JSON-body endpoints of each audience, as a client without the right payload would hit them. */
const jsonEndpoints: ReadonlyArray<{ path: string; method: string; headers: Record<string, string>; envelope: string }> = [
  { method: "POST", path: "/api/v1/access-requests", headers: {}, envelope: "ApiAccessRequestErrorResponse" },
  { method: "POST", path: "/api/v1/voice-sessions", headers: auth, envelope: "ErrorResponse" },
  { method: "POST", path: "/api/v1/make-call", headers: auth, envelope: "ErrorResponse" },
  { method: "POST", path: "/api/v1/callback-tasks", headers: auth, envelope: "ErrorResponse" },
  { method: "PUT", path: `/api/v1/admin/tenants/${TENANT}`, headers: adminHeaders, envelope: "AdminErrorResponse" },
  { method: "POST", path: `/api/v1/admin/tenants/${TENANT}/agents`, headers: adminHeaders, envelope: "AdminErrorResponse" },
  { method: "POST", path: "/voice-sessions", headers: auth, envelope: "ErrorResponse" }
]

const send = (endpoint: (typeof jsonEndpoints)[number], body: string, contentType = "application/json") =>
  rawExchange(
    requestHead(endpoint.method, endpoint.path, {
      ...endpoint.headers,
      "content-type": contentType,
      "content-length": Buffer.byteLength(body),
      connection: "close"
    }) + body
  )

/**
 * Sends `head` and a chunked body of `totalBytes` as fast as the socket takes it, then `after`
 * (another request on the same connection). What came back, and how much had been written when
 * the server closed the connection (undefined if it did not within 10 s of the last write).
 */
const streamChunked = (head: string, totalBytes: number, after = "") =>
  Effect.gen(function*() {
    const server = yield* HttpServer.HttpServer
    const port = server.address._tag === "TcpAddress" ? server.address.port : 0
    return yield* Effect.async<{ answer: string; closedAfterBytes: number | undefined }>((resume) => {
      const socket = connect(port, "127.0.0.1")
      const piece = 64 * 1024
      const chunk = Buffer.from(`${piece.toString(16)}\r\n${"x".repeat(piece)}\r\n`)
      let answer = ""
      let sent = 0
      let done = false
      let timer: NodeJS.Timeout | undefined
      const finish = (closedAfterBytes: number | undefined) => {
        if (done) return
        done = true
        clearTimeout(timer)
        socket.destroy()
        resume(Effect.succeed({ answer, closedAfterBytes }))
      }
      const pump = (): void => {
        while (!done && sent < totalBytes) {
          sent += piece
          if (!socket.write(chunk)) return void socket.once("drain", pump)
        }
        if (done) return
        socket.write(`0\r\n\r\n${after}`)
        timer = setTimeout(() => finish(undefined), 10_000)
      }
      socket.on("data", (data) => {
        answer += data.toString("latin1")
        // Both answers in: the 413 and the next request's.
        if (after !== "" && answer.match(/HTTP\/1\.1 /g)!.length >= 2 && answer.endsWith("}")) finish(undefined)
      })
      socket.on("close", () => finish(sent))
      socket.on("error", () => finish(sent))
      socket.write(head)
      pump()
      return Effect.sync(() => finish(undefined))
    })
  })

const expectAnswered = (res: RawExchange, status: number, envelope: string, label: string) => {
  expect(res.status, `${label}: ${res.text.slice(0, 200)}`).toBe(status)
  expect(res.elapsedMs, label).toBeLessThan(2_000)
  expectSpecSchema(res.body, envelope)
}

const deep = (depth: number) => "[".repeat(depth) + "]".repeat(depth)
const deepObject = (depth: number) => "{\"a\":".repeat(depth) + "1" + "}".repeat(depth)

serverSuite({ HTTP_BODY_TIMEOUT_MS: "500", HTTP_BODY_LIMIT_BYTES: "200000" })("hostile input (issue 7)", (it) => {
  it.effect("row 1: deeply nested JSON is a 400 naming the limit on every JSON endpoint, never a stack overflow", () =>
    Effect.gen(function*() {
      yield* createTenant(TENANT)
      for (const endpoint of jsonEndpoints) {
        const brackets = yield* send(endpoint, deep(10_000))
        expectAnswered(brackets, 400, endpoint.envelope, `${endpoint.path} [x10000`)
        expect(brackets.text).toContain("nested deeper than 32")
      }
      const metadata = `{"stream_id":"MZ-deep","metadata":${deepObject(5_000)}}`
      expectAnswered(yield* send(jsonEndpoints[1]!, metadata), 400, "ErrorResponse", "metadata 5000 deep")
      // A document within the limit still works (the guard does not break normal bodies).
      const ok = yield* request("POST", "/api/v1/voice-sessions", {
        headers: auth,
        json: { stream_id: "MZ-deep-ok", metadata: JSON.parse(deepObject(20)) }
      })
      expect(ok.status, ok.text).toBe(201)
    }))

  it.effect("row 2: multipart and other unread content types are 415 with the envelope", () =>
    Effect.gen(function*() {
      yield* createTenant(TENANT)
      for (const endpoint of jsonEndpoints) {
        for (const type of ["multipart/form-data; boundary=x", "multipart/form-data", "application/octet-stream", "image/png"]) {
          const res = yield* send(endpoint, "{\"company_name\":\"x\"}", type)
          expectAnswered(res, 415, endpoint.envelope, `${endpoint.path} ${type}`)
          expect(res.text).toContain("Unsupported content type")
        }
      }
    }))

  it.effect("row 3: an empty multipart body and a stalled body are answered at once / within the read timeout", () =>
    Effect.gen(function*() {
      const access = jsonEndpoints[0]!
      const empty = yield* rawExchange(requestHead("POST", access.path, {
        "content-type": "multipart/form-data; boundary=x",
        "content-length": 0
      }))
      expectAnswered(empty, 415, access.envelope, "empty multipart")

      // Says 100 bytes, sends 10, then nothing: 408 after HTTP_BODY_TIMEOUT_MS (500 ms here).
      const stalled = yield* rawExchange(
        requestHead("POST", access.path, { "content-type": "application/json", "content-length": 100 }),
        ["{\"company\""],
        { gapMs: 10 }
      )
      expectAnswered(stalled, 408, access.envelope, "stalled body")
      expect(stalled.elapsedMs).toBeGreaterThanOrEqual(400)
      expect(stalled.headers["connection"]).toBe("close")
    }))

  it.effect("row 4: NUL and lone surrogates in body fields, filters and path ids are a 400 naming the field", () =>
    Effect.gen(function*() {
      yield* createTenant(TENANT)
      const cases: ReadonlyArray<[string, string, Record<string, string>, unknown, string, string]> = [
        ["POST", "/api/v1/voice-sessions", auth, { stream_id: "MZ-nul", summary: "a\u0000b" }, "summary", "ErrorResponse"],
        ["POST", "/api/v1/voice-sessions", auth, { stream_id: "MZ-nul", metadata: { note: ["ok", "\uD800"] } }, "metadata.note[1]", "ErrorResponse"],
        ["POST", "/api/v1/access-requests", {}, { company_name: "Acme\u0000" }, "company_name", "ApiAccessRequestErrorResponse"],
        ["PUT", `/api/v1/admin/tenants/${TENANT}`, adminHeaders, { tenant_id: TENANT, display_name: "\uDC00x" }, "display_name", "AdminErrorResponse"],
        ["GET", "/api/v1/call-logs?call_sid=CA%00x", auth, undefined, "call_sid", "ErrorResponse"],
        ["GET", "/api/v1/call-logs/abc%00def", auth, undefined, "path segment", "ErrorResponse"],
        ["GET", `/api/v1/call-logs/${"a".repeat(10_000)}`, auth, undefined, "path segment", "ErrorResponse"],
        ["GET", "/api/v1/call-logs?from_number=%ED%A0%80", auth, undefined, "from_number", "ErrorResponse"]
      ]
      for (const [method, path, headers, json, field, envelope] of cases) {
        const res = yield* rawExchange(
          requestHead(method, path, {
            ...headers,
            "content-type": "application/json",
            "content-length": json === undefined ? 0 : Buffer.byteLength(JSON.stringify(json)),
            connection: "close"
          }) + (json === undefined ? "" : JSON.stringify(json))
        )
        expectAnswered(res, 400, envelope, `${method} ${path.slice(0, 60)}`)
        expect(res.text, path.slice(0, 60)).toContain(field)
      }
    }))

  it.effect("row 8: a body over the limit is 413 whether the length is declared or streamed", () =>
    Effect.gen(function*() {
      yield* createTenant(TENANT)
      const sessions = jsonEndpoints[1]!
      const huge = `{"stream_id":"MZ-huge","summary":"${"x".repeat(300_000)}"}`
      expectAnswered(yield* send(sessions, huge), 413, "ErrorResponse", "declared length")
      // Chunked: the answer comes while the client is still sending (a reset would lose it).
      const chunk = "x".repeat(64_000)
      for (let i = 0; i < 5; i++) {
        const chunked = yield* rawExchange(
          requestHead("POST", sessions.path, { ...auth, "content-type": "application/json", "transfer-encoding": "chunked" }),
          [...Array.from({ length: 12 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`), "0\r\n\r\n"],
          { gapMs: 2 }
        )
        expectAnswered(chunked, 413, "ErrorResponse", `chunked #${i}`)
      }
    }))

  it.effect("row 8: a refused chunked body is dropped as it arrives: the connection serves the next request; past 16 MB it is cut", () =>
    Effect.gen(function*() {
      yield* createTenant(TENANT)
      const head = requestHead("POST", jsonEndpoints[1]!.path, { ...auth, "content-type": "application/json", "transfer-encoding": "chunked" })
      const next = requestHead("GET", "/health/live", {})
      const dropped = yield* streamChunked(head, 2 * 1024 * 1024, next)
      expect(dropped.answer).toMatch(/^HTTP\/1\.1 413 /)
      expect(dropped.answer).not.toMatch(/\r\nconnection: close\r\n/i)
      expect(dropped.answer).toMatch(/HTTP\/1\.1 200 [\s\S]*$/)
      const endless = yield* streamChunked(head, 24 * 1024 * 1024)
      expect(endless.closedAfterBytes, "cut once the discard bound is passed").toBeLessThan(20 * 1024 * 1024)
    }))

  it.effect("row 8: long strings are refused by each field's bound, and metadata by its serialised size", () =>
    Effect.gen(function*() {
      yield* createTenant(TENANT)
      const long = "x".repeat(50_000)
      const cases: ReadonlyArray<[string, string, Record<string, string>, unknown, string]> = [
        ["POST", "/api/v1/voice-sessions", auth, { stream_id: "MZ-long", summary: long }, "summary"],
        ["POST", "/api/v1/voice-sessions", auth, { stream_id: "MZ-long", metadata: { blob: [long, long] } }, "metadata"],
        ["POST", "/api/v1/make-call", auth, { to: "+15551230001", greeting: long }, "greeting"],
        ["PUT", `/api/v1/admin/tenants/${TENANT}`, adminHeaders, { tenant_id: TENANT, org_id: long }, "org_id"],
        ["POST", `/api/v1/admin/tenants/${TENANT}/agents`, adminHeaders, { agent_key: "k", name: "n", description: long }, "description"]
      ]
      for (const [method, path, headers, json, field] of cases) {
        const res = yield* request(method as "POST", path, { headers, json })
        expect(res.status, `${path} ${field}: ${res.text.slice(0, 200)}`).toBe(400)
        expect(res.text).toContain(field)
      }
    }))

  it.effect("row 9: integers in query strings are decimal only", () =>
    Effect.gen(function*() {
      yield* createTenant(TENANT)
      for (const limit of ["0x10", "1e1", "0b11", " 16", "16.0", "Infinity"]) {
        const res = yield* request("GET", `/api/v1/call-logs?limit=${encodeURIComponent(limit)}`, { headers: auth })
        expect(res.status, `limit=${limit}`).toBe(400)
        expectSpecSchema(res.body, "ErrorResponse")
        expect(res.body.error).toContain("limit")
      }
      expect((yield* request("GET", "/api/v1/call-logs?limit=16", { headers: auth })).status).toBe(200)
    }))
})
