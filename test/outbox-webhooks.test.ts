import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Clock, Context, Duration, Effect, Layer, Metric, TestClock } from "effect"
import * as net from "node:net"
import { label, outboxDeliveries } from "../src/Observability/Metrics.js"
import { WebhookOutbox } from "../src/Outbox/WebhookOutbox.js"
import { OutboxWorker } from "../src/Outbox/Worker.js"
import { eventually, eventuallyHolds } from "./support/Eventually.js"
import { fakeWebhookReceiver, type FakeWebhookReceiver } from "./support/FakeWebhookReceiver.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { adminHeaders, bearer, request, testClockSuite } from "./support/TestServer.js"
import { callRecord, recordCall } from "./support/VoiceRecordFixtures.js"
import { advanceUntil, expectedSignature, secret, verify } from "./support/WebhookChecks.js"

/** Tenants and their endpoints (paths on the one receiver). */
const TENANTS = {
  a: { secret: secret("a") },
  c: { secret: secret("c") },
  d: { secret: secret("d"), previous: secret("d-old") },
  // Its URL carries a credential, which must stay out of what a 410 stores.
  e: { secret: secret("e"), path: "/e?token=gone-token-5e1" },
  f: { secret: secret("f") },
  g: { secret: secret("g") },
  h: { secret: secret("h") }
} as const

class Receiver extends Context.Tag("Receiver")<Receiver, FakeWebhookReceiver>() {}

const seed = Layer.scoped(
  Receiver,
  Effect.gen(function*() {
    const receiver = yield* fakeWebhookReceiver
    for (const [name, keys] of Object.entries(TENANTS)) {
      const res = yield* request("PUT", `/api/v1/admin/tenants/hooks-${name}`, {
        headers: adminHeaders,
        json: {
          tenant_id: `hooks-${name}`,
          webhook_url: receiver.url("path" in keys ? keys.path : `/${name}`),
          webhook_secret: keys.secret,
          webhook_secret_previous: "previous" in keys ? keys.previous : null,
          auth_token: `hooks-${name}-bearer-token-0123456789`
        }
      })
      if (res.status !== 200) return yield* Effect.dieMessage(`tenant ${name}: ${res.status} ${res.text}`)
    }
    yield* request("PUT", "/api/v1/admin/tenants/hooks-none", { headers: adminHeaders, json: { tenant_id: "hooks-none" } })
    return receiver
  })
)

const completed = (streamSid: string) => ({
  call_sid: `CA${streamSid}`,
  direction: "inbound",
  duration_seconds: 42,
  escalated: false,
  from_number: "+15555550101",
  function_call_count: 1,
  status: "completed",
  stream_sid: streamSid,
  summary: "Asked about an order",
  to_number: "+15555550199",
  transcript_turn_count: 4
})

/** Enqueues as a domain does: inside its own transaction. */
const enqueue = (tenant: string, event: string, data: Record<string, unknown>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const outbox = yield* WebhookOutbox
    const at = new Date(yield* Clock.currentTimeMillis)
    return yield* sql.withTransaction(outbox.enqueue(`hooks-${tenant}`, event, data, at))
  }).pipe(Effect.orDie)

interface Row {
  readonly id: string
  readonly event: string
  readonly status: string
  readonly attempts: number
  readonly next_attempt_at: string
  readonly last_status_code: number | null
  readonly payload: { readonly id: string; readonly data: Record<string, unknown> }
}

/** The delivery counter of one outcome (the server runs in this process, so its metrics are ours to read). */
const deliveries = (outcome: "delivered" | "retry" | "failed") =>
  Metric.value(outboxDeliveries.pipe(Metric.taggedWithLabels([label("outbox", "webhook"), label("outcome", outcome)]))).pipe(
    Effect.map((state) => state.count)
  )

const rowsOf = (tenant: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<Row>`select id, event, status, attempts, next_attempt_at, last_status_code, payload
             from webhook_outbox where tenant_id = ${`hooks-${tenant}`} order by created_at, id`).pipe(Effect.orDie)

/**
 * For a test that moves the TestClock by minutes: every simulated second of the worker's 1 s
 * poll is a real pass over the database (~600 for ten minutes), which on a loaded CI box
 * (3 files on 2 cores) takes longer than the default 30 s.
 */
const SIMULATED_MINUTES_TIMEOUT = 120_000

/** A local port that was just free: connecting to it is refused. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

testClockSuite({ ALLOW_PRIVATE_OUTBOUND_URLS: "true", OUTBOX_POLL_INTERVAL_MS: "1000" }, { seed })("tenant webhooks", (it) => {
  it.effect("a receiver failing twice then succeeding gets the event when the schedule says, signed the same each time", () =>
    Effect.gen(function*() {
      const receiver = yield* Receiver
      receiver.script("/a", [{ status: 500 }, { status: 503, headers: { "retry-after": "600" } }, { status: 204 }])
      const retriedBefore = yield* deliveries("retry")
      const deliveredBefore = yield* deliveries("delivered")
      const start = yield* Clock.currentTimeMillis
      expect(yield* enqueue("a", "voice.call.completed", completed("MZ-retry"))).toBe(true)

      // Attempt 1 at once (NOTIFY): 500 -> again 5 s later, plus at most 10% jitter.
      yield* eventuallyHolds(Effect.sync(() => receiver.on("/a").length), (n) => n >= 1)
      const [afterFirst] = yield* eventually(rowsOf("a"), (rows) => rows[0]?.attempts === 1)
      expect(afterFirst).toMatchObject({ status: "pending", attempts: 1, last_status_code: 500 })
      const firstDelay = Date.parse(afterFirst!.next_attempt_at) - start
      expect(firstDelay).toBeGreaterThanOrEqual(5000)
      expect(firstDelay).toBeLessThanOrEqual(5500)

      // Attempt 2 when due, not before: 503 with Retry-After 600 s beats the 5 min step.
      // The 500 ms steps that cannot reach the due time are taken in one (advanceUntil waits for
      // a delivery after each step): the clock stays on the same grid, before the due time, and
      // nothing is sent again by then.
      const notDueSteps = Math.floor((Date.parse(afterFirst!.next_attempt_at) - (yield* Clock.currentTimeMillis)) / 500) - 1
      yield* TestClock.adjust(Duration.millis(500 * notDueSteps))
      expect(receiver.on("/a")).toHaveLength(1)
      yield* advanceUntil(() => receiver.on("/a").length >= 2, "500 millis", 20)
      const second = receiver.on("/a")[1]!
      expect(Number(second.headers["webhook-timestamp"]) * 1000).toBeGreaterThanOrEqual(start + 5000)
      const [afterSecond] = yield* eventually(rowsOf("a"), (rows) => rows[0]?.attempts === 2)
      const secondAt = yield* Clock.currentTimeMillis
      expect(Date.parse(afterSecond!.next_attempt_at) - secondAt).toBe(600_000)

      // Attempt 3, ten minutes later: delivered.
      yield* TestClock.adjust("590 seconds")
      yield* advanceUntil(() => receiver.on("/a").length >= 3, "2 seconds", 15)
      const [delivered] = yield* eventually(rowsOf("a"), (rows) => rows[0]?.status === "delivered")
      expect(delivered).toMatchObject({ status: "delivered", attempts: 3, last_status_code: 204 })
      // Each attempt is counted by outcome (voice_outbox_deliveries_total).
      expect((yield* deliveries("retry")) - retriedBefore).toBe(2)
      expect((yield* deliveries("delivered")) - deliveredBefore).toBe(1)
      const attempts = receiver.on("/a")
      expect(Number(attempts[2]!.headers["webhook-timestamp"]) * 1000).toBeGreaterThanOrEqual(secondAt + 600_000)

      // One message: same id and body every time; each signature is the one the standard library computes.
      expect(new Set(attempts.map((r) => r.headers["webhook-id"]))).toEqual(new Set([delivered!.payload.id]))
      expect(new Set(attempts.map((r) => r.body)).size).toBe(1)
      for (const attempt of attempts) {
        expect(attempt.headers["webhook-signature"]).toBe(expectedSignature(TENANTS.a.secret, attempt))
        expect(verify(TENANTS.a.secret, attempt)).toMatchObject({ tenant_id: "hooks-a" })
        expect(attempt.headers["content-type"]).toBe("application/json")
      }
      const body = JSON.parse(attempts[0]!.body)
      expectSpecSchema(body, "WebhookEvent")
      expectSpecSchema(body.data, "WebhookCallCompletedPayload")
      expect(body).toMatchObject({ id: delivered!.payload.id, event: "voice.call.completed", tenant_id: "hooks-a" })
    }), SIMULATED_MINUTES_TIMEOUT)

  it.effect("signatures verify with standardwebhooks, with either secret during a rotation; no event crosses tenants", () =>
    Effect.gen(function*() {
      const receiver = yield* Receiver
      for (let i = 0; i < 3; i++) {
        yield* enqueue("c", "voice.call.started", { call_sid: `CAc${i}` })
        yield* enqueue("d", "voice.call.started", { call_sid: `CAd${i}` })
      }
      yield* eventuallyHolds(Effect.sync(() => receiver.on("/c").length + receiver.on("/d").length), (n) => n >= 6)
      for (const [path, tenant] of [["/c", "hooks-c"], ["/d", "hooks-d"]] as const) {
        const got = receiver.on(path)
        expect(got).toHaveLength(3)
        for (const r of got) {
          const body = JSON.parse(r.body)
          expectSpecSchema(body, "WebhookEvent")
          expect(body.tenant_id).toBe(tenant)
          expect(body.data.call_sid.startsWith(`CA${tenant.slice(-1)}`)).toBe(true)
        }
      }
      for (const r of receiver.on("/c")) {
        expect(verify(TENANTS.c.secret, r)).toMatchObject({ tenant_id: "hooks-c" })
        expect(() => verify(TENANTS.d.secret, r)).toThrow("No matching signature found")
      }
      for (const r of receiver.on("/d")) {
        expect(r.headers["webhook-signature"]!.split(" ")).toHaveLength(2)
        expect(verify(TENANTS.d.secret, r)).toMatchObject({ tenant_id: "hooks-d" })
        expect(verify(TENANTS.d.previous, r)).toMatchObject({ tenant_id: "hooks-d" })
        expect(() => verify(TENANTS.c.secret, r)).toThrow("No matching signature found")
      }
      // A tenant without an endpoint gets no rows at all.
      expect(yield* enqueue("none", "voice.call.started", { call_sid: "CAnone" })).toBe(false)
      expect(yield* rowsOf("none")).toHaveLength(0)
    }))

  it.effect("410 Gone disables the endpoint: the row fails and nothing more is enqueued for it", () =>
    Effect.gen(function*() {
      const receiver = yield* Receiver
      receiver.script(TENANTS.e.path, [{ status: 410 }])
      expect(yield* enqueue("e", "voice.call.escalated", { stream_sid: "MZe", target: "+15555559999", initiated_by: "ai" })).toBe(true)
      const [gone] = yield* eventually(rowsOf("e"), (rows) => rows[0]?.status === "failed")
      expect(gone).toMatchObject({ status: "failed", attempts: 1, last_status_code: 410 })
      expect(yield* enqueue("e", "voice.call.started", { call_sid: "CAe" })).toBe(false)
      expect(yield* rowsOf("e")).toHaveLength(1)
      expect(receiver.on(TENANTS.e.path)).toHaveLength(1)
      const sql = yield* SqlClient.SqlClient
      const [disabled] = yield* sql<{ readonly reason: string }>`
        select reason from webhook_endpoints_disabled where tenant_id = 'hooks-e'`.pipe(Effect.orDie)
      expect(disabled!.reason).toContain("answered 410 Gone")
      expect(disabled!.reason).not.toContain("gone-token-5e1")
    }))

  it.effect("after the last attempt the row is failed and a voice.webhook.delivery_failed event is recorded", () =>
    Effect.gen(function*() {
      const receiver = yield* Receiver
      receiver.script("/f", [{ status: 500 }])
      const sql = yield* SqlClient.SqlClient
      const outbox = yield* WebhookOutbox
      // The row has used nine attempts already: the next failure is its last.
      yield* sql.withTransaction(Effect.zipRight(
        outbox.enqueue("hooks-f", "voice.session.evaluated", { session_id: "s-1", score: 0.4 }, new Date(yield* Clock.currentTimeMillis)),
        sql`update webhook_outbox set attempts = 9 where tenant_id = 'hooks-f'`
      )).pipe(Effect.orDie)
      const rows = yield* eventually(rowsOf("f"), (found) => found.length === 2)
      const original = rows.find((row) => row.event === "voice.session.evaluated")!
      expect(original).toMatchObject({ status: "failed", attempts: 10, last_status_code: 500 })
      const announcement = rows.find((row) => row.event === "voice.webhook.delivery_failed")!
      expect(announcement.payload.data).toMatchObject({
        webhook_id: original.payload.id,
        event: "voice.session.evaluated",
        attempts: 10,
        last_status_code: 500
      })
      expectSpecSchema(announcement.payload, "WebhookEvent")
    }))

  it.effect("a failed delivery's stored error names the endpoint without its credential", () =>
    Effect.gen(function*() {
      // A port nothing listens on: the POST fails with the client's message, which names the URL.
      const port = yield* Effect.promise(() => closedPort())
      const url = `http://hook-user:hook-password-9f3@127.0.0.1:${port}/x?token=hook-token-7c1&v=2`
      const res = yield* request("PUT", "/api/v1/admin/tenants/hooks-x", {
        headers: adminHeaders,
        json: { tenant_id: "hooks-x", webhook_url: url, webhook_secret: secret("x"), auth_token: "hooks-x-bearer-token-0123456789" }
      })
      expect(res.status).toBe(200)
      expect(yield* enqueue("x", "voice.call.started", { call_sid: "CAx" })).toBe(true)
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* eventually(
        sql<{ readonly last_error: string | null }>`select last_error from webhook_outbox where tenant_id = 'hooks-x'`.pipe(Effect.orDie),
        (rows) => rows[0]?.last_error != null
      )
      expect(row!.last_error).toContain(`127.0.0.1:${port}/x`)
      expect(row!.last_error).not.toContain("hook-password-9f3")
      expect(row!.last_error).not.toContain("hook-token-7c1")
    }))

  it.effect("two workers draining at once never deliver an event twice", () =>
    Effect.gen(function*() {
      const receiver = yield* Receiver
      const worker = yield* OutboxWorker
      const sql = yield* SqlClient.SqlClient
      const outbox = yield* WebhookOutbox
      const at = new Date(yield* Clock.currentTimeMillis)
      // Committed in one go, so the background worker and the extra drains race for the same rows.
      yield* sql.withTransaction(Effect.forEach(
        Array.from({ length: 120 }, (_, i) => i),
        (i) => outbox.enqueue("hooks-g", "voice.call.started", { call_sid: `CAg${i}` }, at),
        { discard: true }
      )).pipe(Effect.orDie)
      yield* Effect.all([worker.drain, worker.drain, worker.drain], { concurrency: "unbounded" })
      yield* eventuallyHolds(rowsOf("g"), (rows) => rows.every((row) => row.status === "delivered"))
      const ids = receiver.on("/g").map((r) => r.headers["webhook-id"])
      expect(ids).toHaveLength(120)
      expect(new Set(ids).size).toBe(120)
      const depth = yield* request("GET", "/api/v1/admin/outboxes/depth", { headers: adminHeaders })
      expect(depth.status).toBe(200)
      expectSpecSchema(depth.body, "AdminOutboxDepthResponse")
      expect(depth.body.depths.find((d: { table: string }) => d.table === "webhook_outbox").delivered).toBeGreaterThanOrEqual(120)
    }))

  it.effect("an evaluation recorded through the API reaches the tenant as voice.session.evaluated", () =>
    Effect.gen(function*() {
      const receiver = yield* Receiver
      yield* recordCall(callRecord("hooks-h", "MZ-eval"))
      const recorded = yield* request("POST", "/api/v1/automations/voice/evaluation", {
        headers: bearer("hooks-h-bearer-token-0123456789"),
        json: { session_id: "MZ-eval", score: 0.8, tags: ["resolved"] }
      })
      expect(recorded.status).toBe(200)
      const [got] = yield* eventually(Effect.sync(() => receiver.on("/h")), (list) => list.length >= 1)
      const body = verify(TENANTS.h.secret, got!) as Record<string, any>
      expectSpecSchema(body, "WebhookEvent")
      expect(body).toMatchObject({
        event: "voice.session.evaluated",
        tenant_id: "hooks-h",
        data: { eval_id: recorded.body.result.id, stream_id: "MZ-eval", score: 0.8, tags: ["resolved"] }
      })
    }))
})
