import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { SqlClient } from "@effect/sql"
import { describe, expect, it as plain, layer } from "@effect/vitest"
import { Effect } from "effect"
import { parse as routerQueryParse } from "find-my-way-ts/QueryString"
import { randomUUID } from "node:crypto"
import { makeHotReads } from "../src/Http/HotReads.js"
import { parseSimpleQuery, SIMPLE_URL } from "../src/Http/SimpleQuery.js"
import { createTenant } from "./support/AgentFixtures.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, bearer, makeTestServer, request } from "./support/TestServer.js"

/**
 * `GET /api/v1/call-logs`, `/api/v1/voice-sessions`, `/api/v1/call-logs/{id}`, `/api/v1/voice-sessions/{id}` and `/status`
 * are served below HttpApi (src/Http/HotReads.ts); their legacy aliases (`/call-logs`, ...)
 * still go through HttpApi, so each answer is compared with HttpApi's for the same request.
 */

describe("the hot reads' query split", () => {
  // The router's own parser (find-my-way's fast-querystring) is the oracle.
  const queries = [
    "", "limit=50", "limit=5&offset=10", "limit=1&limit=2", "limit=1&limit=2&limit=3", "a", "a&b=", "&&limit=3&",
    "=5", "x==y", "cursor=MjAyNi0wMS0wMVQwMDowMDowMC4wMDBafGFiYw", "from_date=2026-01-01T00:00:00.000Z",
    "__proto__=1", "constructor=2&toString=3", "status=completed,failed"
  ]
  for (const query of queries) {
    plain(`splits ${JSON.stringify(query)} as the router does`, () => {
      expect(SIMPLE_URL.test(`/api/v1/call-logs?${query}`)).toBe(true)
      expect({ ...parseSimpleQuery(query) }).toEqual({ ...routerQueryParse(query) })
    })
  }
  plain("leaves anything that needs decoding to the router", () => {
    for (const url of ["/api/v1/call-logs?status=a%20b", "/api/v1/call-logs?q=a+b", "/api/v1/call-logs;x", "/api/v1/call-logs?a#b", "/api/v1/%63all-logs", "/api/v1/call-logs?a?b"]) {
      expect([url, SIMPLE_URL.test(url)]).toEqual([url, false])
    }
  })
})

const insertCall = (tenantId: string, startedAt: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const id = randomUUID()
    return Effect.as(
      sql`insert into call_logs (id, tenant_id, stream_sid, direction, first_seen_at, media_started_at, media_ended_at)
        values (${id}, ${tenantId}, ${`MZ-${id}`}, 'inbound', ${startedAt}, ${startedAt}, ${startedAt}::timestamptz + interval '1 minute')`,
      id
    )
  })

const insertSession = (tenantId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const id = randomUUID()
    return Effect.as(
      sql`insert into voice_sessions (id, tenant_id, stream_id, status, started_at)
        values (${id}, ${tenantId}, ${`MZ-${randomUUID()}`}, 'completed', now())`,
      id
    )
  })

/** The same request through the hot route and through HttpApi (the legacy alias), minus what differs per request. */
const bothWays = (path: string, headers: Record<string, string>) =>
  Effect.gen(function*() {
    const hot = yield* request("GET", `/api/v1${path}`, { headers })
    const api = yield* request("GET", path, { headers })
    const strip = (body: Record<string, unknown> | undefined) =>
      body === undefined ? body : { ...body, request_id: body.request_id === undefined ? undefined : "-", timestamp: undefined }
    expect([hot.status, hot.headers["content-type"], strip(hot.body)]).toEqual([api.status, api.headers["content-type"], strip(api.body)])
    expect([path, hot.headers["x-request-id"], api.headers["x-request-id"]]).toEqual([path, expect.any(String), expect.any(String)])
    return hot
  })

layer(makeTestServer())("hot reads", (it) => {
  it.effect("answer as HttpApi does: pages, details, errors and bad input", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("hot-a")
      yield* createTenant("hot-b")
      const own = yield* insertCall("hot-a", "2026-01-01T00:00:01Z")
      yield* insertCall("hot-a", "2026-01-01T00:00:02Z")
      yield* insertCall("hot-a", "2026-01-01T00:00:03Z")
      const other = yield* insertCall("hot-b", "2026-01-01T00:00:04Z")
      const ownSession = yield* insertSession("hot-a")
      const otherSession = yield* insertSession("hot-b")

      const page = yield* bothWays("/call-logs?limit=2", bearer(token))
      expect(page.status).toBe(200)
      expectSpecSchema(page.body, "CallLogsListResponse")
      expect(page.body.calls).toHaveLength(2)
      const next = yield* bothWays(`/call-logs?limit=2&cursor=${page.body.next_cursor}`, bearer(token))
      // Another tenant's rows never appear, in pages or by id.
      expect([...page.body.calls, ...next.body.calls].map((c: { id: string }) => c.id)).not.toContain(other)
      expect(next.body.calls.map((c: { id: string }) => c.id)).toEqual([own])
      expect((yield* bothWays(`/call-logs/${other}`, bearer(token))).status).toBe(404)
      const detail = yield* bothWays(`/call-logs/${own}`, bearer(token))
      expect(detail.status).toBe(200)
      expectSpecSchema(detail.body, "CallLogDetailResponse")
      expect((yield* bothWays("/call-logs/not-a-uuid", bearer(token))).status).toBe(404)

      const sessions = yield* bothWays("/voice-sessions?limit=5&sort=asc", bearer(token))
      expect(sessions.body).toMatchObject({ ok: true, tenant: "hot-a", count: 1 })
      const session = yield* bothWays(`/voice-sessions/${ownSession}`, bearer(token))
      expect([session.status, session.body]).toEqual([200, sessions.body.sessions[0]])
      expect((yield* bothWays(`/voice-sessions/${otherSession}`, bearer(token))).status).toBe(404)
      expect((yield* bothWays("/voice-sessions/not-a-uuid", bearer(token))).status).toBe(404)
      // `/status` has no alias through HttpApi: its body is checked against the spec instead.
      const status = yield* request("GET", "/status", { headers: bearer(token) })
      expectSpecSchema(status.body, "RootResponse")
      expect([status.status, status.body]).toMatchObject([200, { tenant: "hot-a", org_id: "org-hot-a", version: expect.any(String) }])

      // The statistics, and their bad windows and buckets (a repeated key is HttpApi's to refuse).
      for (
        const path of ["/call-logs/stats", "/call-logs/stats?x=1", "/voice-session-evals/stats", "/voice-outcomes/stats",
          "/voice-outcomes/stats?window=7d", "/voice-outcomes/timeseries", "/voice-outcomes/timeseries?window=2d&bucket=90m",
          "/call-logs/latency", "/call-logs/latency?window=all&samples=2", "/call-logs/latency?window=7d", "/call-logs/latency?window=30d"]
      ) {
        expect([path, (yield* bothWays(path, bearer(token))).status]).toEqual([path, 200])
      }
      for (
        const path of ["/voice-outcomes/stats?window=abc", "/voice-outcomes/stats?window=1d&window=2d",
          "/voice-outcomes/timeseries?bucket=10s", "/voice-outcomes/timeseries?window=30d&bucket=1m",
          "/call-logs/latency?window=1d", "/call-logs/latency?samples=0", "/call-logs/latency?window=7d&window=all"]
      ) {
        const bad = yield* bothWays(path, bearer(token))
        expect([path, bad.status]).toEqual([path, 400])
        expectSpecSchema(bad.body, "ErrorResponse")
      }

      // Bad input: the same 400 envelope; credentials are checked first, as before.
      for (const query of ["limit=0", "limit=abc", "limit=1&limit=2", "offset=-1", "escalated=maybe", "status=nope"]) {
        const bad = yield* bothWays(`/call-logs?${query}`, bearer(token))
        expect([query, bad.status]).toEqual([query, 400])
        expectSpecSchema(bad.body, "ErrorResponse")
      }
      expect((yield* bothWays("/voice-sessions?started_after=yesterday", bearer(token))).status).toBe(400)
      expect((yield* bothWays("/call-logs?limit=0", {})).status).toBe(401)

      // Credentials: missing, malformed, unknown.
      for (const headers of [{}, { authorization: "Basic abc" }, bearer("no-such-token-0123456789")]) {
        for (const path of ["/call-logs", "/voice-sessions", `/call-logs/${own}`, `/voice-sessions/${ownSession}`, "/call-logs/stats", "/voice-outcomes/timeseries", "/call-logs/latency"]) {
          const refused = yield* bothWays(path, headers)
          expect(refused.status).toBe(401)
          expectSpecSchema(refused.body, "ErrorResponse")
        }
        const refused = yield* request("GET", "/status", { headers })
        expect([refused.status, refused.body.code]).toEqual([401, "UNAUTHORIZED"])
      }
      // The request id is the caller's, in the header and in the envelope.
      const traced = yield* request("GET", "/api/v1/call-logs", { headers: { "x-request-id": "trace-123" } })
      expect([traced.headers["x-request-id"], traced.body.request_id]).toEqual(["trace-123", "trace-123"])
    }))

  it.effect("a revoked API key is refused at once", () =>
    Effect.gen(function*() {
      yield* createTenant("hot-keys")
      const created = yield* request("POST", "/api/v1/admin/tenants/hot-keys/api-keys", { headers: adminHeaders, json: {} })
      const { api_key, token } = created.body.created
      expect((yield* request("GET", "/api/v1/call-logs", { headers: bearer(token) })).status).toBe(200)
      expect((yield* request("DELETE", `/api/v1/admin/tenants/hot-keys/api-keys/${api_key.id}`, { headers: adminHeaders })).status)
        .toBe(200)
      for (const path of ["/api/v1/call-logs", "/api/v1/voice-sessions", "/status", "/api/v1/voice-outcomes/stats", "/api/v1/call-logs/latency"]) {
        const denied = yield* request("GET", path, { headers: bearer(token) })
        expect([path, denied.status, denied.body.error]).toEqual([path, 401, "Invalid or revoked credentials"])
      }
    }))

  it.effect("take exactly the requests they are for and leave the rest to HttpApi", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("hot-route")
      const hotReads = yield* makeHotReads
      const app = hotReads(Effect.succeed(HttpServerResponse.empty({ status: 418 })))
      const status = (method: string, url: string) =>
        Effect.map(
          Effect.provideService(app, HttpServerRequest.HttpServerRequest, HttpServerRequest.fromWeb(
            new Request(`http://voice.test${url}`, { method, headers: bearer(token) })
          )),
          (response) => response.status
        )
      const taken = ["/api/v1/call-logs", "/api/v1/call-logs?limit=3&offset=1", "/api/v1/voice-sessions?sort=asc",
        `/api/v1/call-logs/${randomUUID()}`, `/api/v1/voice-sessions/${randomUUID()}`, "/api/v1/voice-sessions/x", "/status", "/status?x=1", "/api/v1/call-logs/stats",
        "/api/v1/voice-session-evals/stats", "/api/v1/voice-outcomes/stats?window=7d", "/api/v1/voice-outcomes/timeseries?bucket=1d",
        "/api/v1/call-logs/latency", "/api/v1/call-logs/latency?window=1d", "/api/v1/call-logs/latency?window=all&samples=50"]
      for (const url of taken) expect([url, yield* status("GET", url)]).not.toEqual([url, 418])
      const left = ["/call-logs", "/api/v1/call-logs/", "/call-logs/latency", "/api/v1/call-logs/latency?samples=0",
        "/api/v1/call-logs/latency?window=7d&window=all", "/api/v1/call-logs/latency?samples=x", "/call-logs/stats",
        "/api/v1/voice-outcomes/stats?window=1d&window=2d", "/api/v1/voice-outcomes/timeseries?window=2%20d",
        "/api/v1/operator-queues/stats", "/api/v1/logs/stats", "/api/v1/voice-outcomes/x/stats",
        "/api/v1/call-logs?limit=0", "/api/v1/call-logs?status=a%20b", "/api/v1/call-logs/a%2Fb", "/api/v1/voice-sessions/by-stream",
        "/api/v1/voice-sessions/by-stream/MZ1", "/api/v1/voice-sessions/a%2Fb", "/voice-sessions/x",
        "/api/v1/call-logs/" + "x".repeat(101), "/status/"]
      for (const url of left) expect([url, yield* status("GET", url)]).toEqual([url, 418])
      expect(yield* status("POST", "/api/v1/voice-sessions")).toBe(418)
      expect(yield* status("HEAD", "/status")).toBe(418)
    }))
})
