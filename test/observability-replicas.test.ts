import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as net from "node:net"
import { parseOpenMetrics, valueOf } from "./support/OpenMetricsText.js"
import { call, startReplica } from "./support/Replicas.js"
import { query, testDatabaseUrl } from "./support/TestDatabase.js"

const freePort = Effect.async<number>((resume) => {
  const server = net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address() as net.AddressInfo
    server.close(() => resume(Effect.succeed(address.port)))
  })
})

const scrape = (port: number) =>
  Effect.promise(async () => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`)
    return { status: res.status, samples: parseOpenMetrics(await res.text()) }
  })

describe("metrics of two replicas on one database", () => {
  it.live("each replica reports its own numbers under its own replica label; the outbox gauges agree", () =>
    Effect.gen(function*() {
      const url = yield* testDatabaseUrl
      const [portA, portB] = [yield* freePort, yield* freePort]
      const [a, b] = yield* Effect.all([
        startReplica(url, { METRICS_PORT: String(portA) }),
        startReplica(url, { METRICS_PORT: String(portB) })
      ], { concurrency: 2 })
      // Not on the public port: only on METRICS_PORT.
      expect((yield* call(a, "GET", "/metrics")).status).toBe(404)
      expect((yield* call(b, "GET", "/metrics")).status).toBe(404)

      for (let i = 0; i < 3; i++) expect((yield* call(a, "GET", "/status")).status).toBe(401)
      // Waiting for a retry an hour away, so the delivery workers leave it pending.
      yield* query(url, `insert into webhook_outbox (id, tenant_id, event, payload, created_at, next_attempt_at)
                       values (gen_random_uuid(), 'acme', 'call.completed', '{}'::jsonb, now() - interval '2 minutes',
                               now() + interval '1 hour')`)

      const [fromA, fromB] = [yield* scrape(portA), yield* scrape(portB)]
      expect([fromA.status, fromB.status]).toEqual([200, 200])
      const replicaOf = (samples: typeof fromA.samples) => new Set(samples.map((s) => s.labels.replica))
      expect(replicaOf(fromA.samples).size).toBe(1)
      expect(replicaOf(fromB.samples).size).toBe(1)
      expect([...replicaOf(fromA.samples)][0]).not.toBe([...replicaOf(fromB.samples)][0])

      expect(valueOf(fromA.samples, "http_server_requests_total", { status: "401" })).toBeGreaterThanOrEqual(3)
      expect(valueOf(fromB.samples, "http_server_requests_total", { status: "401" })).toBe(0)
      for (const samples of [fromA.samples, fromB.samples]) {
        expect(valueOf(samples, "voice_outbox_pending", { outbox: "webhook" })).toBe(1)
        expect(valueOf(samples, "voice_outbox_oldest_pending_age_seconds", { outbox: "webhook" })).toBeGreaterThanOrEqual(120)
        expect(valueOf(samples, "voice_replica_ready")).toBe(1)
      }
    }).pipe(Effect.scoped), 90_000)
})
