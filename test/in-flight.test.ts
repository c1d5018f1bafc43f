import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { createTenant } from "./support/AgentFixtures.js"
import { eventually } from "./support/Eventually.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { bearer, makeTestServer, request } from "./support/TestServer.js"

/**
 * Past HTTP_MAX_IN_FLIGHT requests the service answers 503 with Retry-After at once instead of
 * queueing (a queue is what grew latency to seconds and memory to hundreds of MB under load).
 */
layer(makeTestServer({ HTTP_MAX_IN_FLIGHT: "2" }))("in-flight limit", (it) => {
  it.effect("sheds requests over the limit, keeps probes answering, and recovers", () =>
    Effect.gen(function*() {
      const token = yield* createTenant("busy")
      const sql = yield* SqlClient.SqlClient
      const locked = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      // A lock on call_logs holds the list requests in flight until the test releases it.
      const holder = yield* sql.withTransaction(Effect.gen(function*() {
        yield* sql`lock table call_logs in access exclusive mode`
        yield* Deferred.succeed(locked, undefined)
        yield* Deferred.await(release)
      })).pipe(Effect.fork)
      yield* Deferred.await(locked)

      const list = request("GET", "/api/v1/call-logs", { headers: bearer(token) })
      const held = yield* Effect.all([list, list], { concurrency: 2 }).pipe(Effect.fork)
      const waiting = sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
        where wait_event_type = 'Lock' and query like '%from call_logs%'`.pipe(Effect.map((rows) => rows[0]!.n))
      expect(yield* eventually(waiting, (n) => n === 2, 10_000)).toBe(2)
      const shed = yield* list
      expect(shed.status).toBe(503)
      expect(shed.headers["retry-after"]).toBe("1")
      expectSpecSchema(shed.body, "ErrorResponse")
      expect((yield* request("GET", "/health/live")).status).toBe(200)

      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      const [first, second] = yield* Fiber.join(held)
      expect([first.status, second.status]).toEqual([200, 200])
      expect((yield* list).status).toBe(200)
    }))
})
