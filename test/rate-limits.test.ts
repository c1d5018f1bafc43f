import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, bearer, request, testClockSuite } from "./support/TestServer.js"

// The servers run on the tests' TestClock: a burst stays inside one window because time
// stands still, and the next window comes when a test moves the clock.

testClockSuite({ RATE_LIMIT_PER_IP_PER_MINUTE: "5", RATE_LIMIT_PER_TENANT_PER_MINUTE: "3" })("rate limits", (it) => {
  it.effect("per address: 429 with Retry-After and the caller's envelope; probes and Twilio are exempt", () =>
    Effect.gen(function*() {
      const from = { "x-forwarded-for": "198.51.100.1" }
      const statuses: Array<number> = []
      for (let i = 0; i < 7; i++) statuses.push((yield* request("GET", "/api/v1/nothing", { headers: from })).status)
      expect(statuses).toEqual([404, 404, 404, 404, 404, 429, 429])
      const limited = yield* request("GET", "/api/v1/nothing", { headers: from })
      expectSpecSchema(limited.body, "ErrorResponse")
      expect(limited.body.code).toBe("RATE_LIMITED")
      const retryAfter = Number(limited.headers["retry-after"])
      expect(retryAfter).toBeGreaterThan(0)
      expect(retryAfter).toBeLessThanOrEqual(60)
      const admin = yield* request("GET", "/api/v1/admin/tenants", { headers: { ...from, ...adminHeaders } })
      expect(admin.status).toBe(429)
      expectSpecSchema(admin.body, "AdminErrorResponse")
      expect((yield* request("GET", "/health/ready", { headers: from })).status).toBe(200)
      expect((yield* request("GET", "/health/live", { headers: from })).status).toBe(200)
      // Twilio's webhooks are not limited by address (the route may not exist here: anything but 429).
      expect((yield* request("POST", "/api/v1/call-status", { headers: from })).status).not.toBe(429)
      // Another address is unaffected.
      expect((yield* request("GET", "/api/v1/nothing", { headers: { "x-forwarded-for": "198.51.100.2" } })).status).toBe(404)
    }))

  it.effect("Retry-After counts down to the next window, which lets the address in again", () =>
    Effect.gen(function*() {
      const from = { "x-forwarded-for": "198.51.100.3" }
      for (let i = 0; i < 5; i++) expect((yield* request("GET", "/api/v1/nothing", { headers: from })).status).toBe(404)
      const limited = yield* request("GET", "/api/v1/nothing", { headers: from })
      expect(limited.status).toBe(429)
      const retryAfter = Number(limited.headers["retry-after"])
      expect(retryAfter).toBeGreaterThanOrEqual(1)
      expect(retryAfter).toBeLessThanOrEqual(60)
      yield* TestClock.adjust(`${retryAfter - 1} seconds`)
      const stillLimited = yield* request("GET", "/api/v1/nothing", { headers: from })
      expect(stillLimited.status).toBe(429)
      expect(stillLimited.headers["retry-after"]).toBe("1")
      yield* TestClock.adjust("1 second")
      expect((yield* request("GET", "/api/v1/nothing", { headers: from })).status).toBe(404)
    }))

  it.effect("per tenant, whichever address the requests come from", () =>
    Effect.gen(function*() {
      yield* request("PUT", "/api/v1/admin/tenants/acme", {
        headers: { ...adminHeaders, "x-forwarded-for": "198.51.100.50" },
        json: { tenant_id: "acme", auth_token: "acme-token-0123456789" }
      })
      const statuses: Array<number> = []
      for (let i = 0; i < 5; i++) {
        const res = yield* request("GET", "/status", {
          headers: { ...bearer("acme-token-0123456789"), "x-forwarded-for": `198.51.100.${60 + i}` }
        })
        statuses.push(res.status)
        if (res.status === 429) {
          expectSpecSchema(res.body, "ErrorResponse")
          expect(res.body.error).toBe("Tenant rate limit exceeded")
          expect(Number(res.headers["retry-after"])).toBeGreaterThan(0)
        }
      }
      expect(statuses).toEqual([200, 200, 200, 429, 429])
    }))
})

testClockSuite({ RATE_LIMIT_PER_TENANT_PER_MINUTE: "40" })("rate limits with leased allowances", (it) => {
  it.effect("a replica spends leased slices of the allowance, and never more than the limit", () =>
    Effect.gen(function*() {
      yield* request("PUT", "/api/v1/admin/tenants/busy", {
        headers: adminHeaders,
        json: { tenant_id: "busy", auth_token: "busy-token-0123456789" }
      })
      const responses = yield* Effect.all(
        Array.from({ length: 50 }, () => request("GET", "/status", { headers: bearer("busy-token-0123456789") })),
        { concurrency: 10 }
      )
      const allowed = responses.filter((r) => r.status === 200).length
      expect(allowed).toBe(40)
      expect(responses.filter((r) => r.status === 429)).toHaveLength(10)
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ hits: number }>`select hits from rate_limit_windows where bucket = 'tenant:busy'`
      // Leases of 2 (40/20): about one write per two requests, not one per request.
      expect(rows[0]!.hits).toBeGreaterThanOrEqual(40)
      expect(rows[0]!.hits / 2).toBeLessThan(30)
    }))
})

testClockSuite({ RATE_LIMIT_PER_TENANT_PER_MINUTE: "100000000" })("rate limits under a burst", (it) => {
  it.effect("concurrent first requests share one lease instead of each taking a slice", () =>
    Effect.gen(function*() {
      yield* request("PUT", "/api/v1/admin/tenants/burst", {
        headers: adminHeaders,
        json: { tenant_id: "burst", auth_token: "burst-token-0123456789" }
      })
      const responses = yield* Effect.all(
        Array.from({ length: 40 }, () => request("GET", "/status", { headers: bearer("burst-token-0123456789") })),
        { concurrency: 40 }
      )
      expect(responses.map((r) => r.status)).toEqual(Array(40).fill(200))
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql<{ hits: number }>`select hits from rate_limit_windows where bucket = 'tenant:burst'`
      // One lease of limit/20, however many requests raced for it.
      expect(rows.map((r) => r.hits)).toEqual([5_000_000])
    }))
})
