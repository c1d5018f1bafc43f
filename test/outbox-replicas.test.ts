import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { randomUUID } from "node:crypto"
import { Webhook } from "standardwebhooks"
import { within } from "./support/Bounded.js"
import { eventuallyHolds } from "./support/Eventually.js"
import { fakeWebhookReceiver, type FakeWebhookReceiver } from "./support/FakeWebhookReceiver.js"
import { call, type Replica, startReplica, startReplicas } from "./support/Replicas.js"
import { testDatabaseUrl, withClient } from "./support/TestDatabase.js"
import { adminHeaders } from "./support/TestServer.js"

const SECRET = `whsec_${Buffer.from("replica-webhook-signing-key-0123456789").toString("base64")}`

/** Replicas that deliver to 127.0.0.1, poll often, and give up a dead replica's claims after 3 s. */
const ENV = { ALLOW_PRIVATE_OUTBOUND_URLS: "true", OUTBOX_POLL_INTERVAL_MS: "200", OUTBOX_LEASE_SECONDS: "3" }

/** `count` events committed for `tenant` at once (as a domain's transaction would), then NOTIFY. */
const commitEvents = (url: string, tenant: string, count: number) =>
  withClient(url, async (client) => {
    const ids = Array.from({ length: count }, () => `msg_${randomUUID().replaceAll("-", "")}`)
    await client.query("begin")
    for (const id of ids) {
      const envelope = { id, event: "voice.call.started", timestamp: new Date().toISOString(), tenant_id: tenant, data: { call_sid: id } }
      await client.query(
        "insert into webhook_outbox (id, tenant_id, event, payload) values ($1, $2, $3, $4::jsonb)",
        [randomUUID(), tenant, envelope.event, JSON.stringify(envelope)]
      )
    }
    await client.query("select pg_notify('outbox', 'webhook')")
    await client.query("commit")
    return ids
  })

const statuses = (url: string, tenant: string) =>
  withClient(url, async (client) =>
    (await client.query<{ status: string; n: number }>(
      "select status, count(*)::int as n from webhook_outbox where tenant_id = $1 group by status",
      [tenant]
    )).rows)

const configureTenant = (replica: Replica, tenant: string, receiver: FakeWebhookReceiver) =>
  Effect.gen(function*() {
    const res = yield* call(replica, "PUT", `/api/v1/admin/tenants/${tenant}`, {
      headers: adminHeaders,
      json: { tenant_id: tenant, webhook_url: receiver.url(`/${tenant}`), webhook_secret: SECRET }
    })
    expect(res.status).toBe(200)
  })

/** Resolves once `replica`'s process has exited (at once if it already has); fails naming it after 30 s. */
const exited = (replica: Replica) =>
  Effect.promise(() =>
    within(30_000, `replica (pid ${replica.process.pid}) to exit`, new Promise<void>((resolve) => {
      if (replica.process.exitCode !== null || replica.process.signalCode !== null) return resolve()
      replica.process.once("exit", () => resolve())
    }))
  )

const allDelivered = (rows: ReadonlyArray<{ status: string; n: number }>, count: number) =>
  rows.length === 1 && rows[0]!.status === "delivered" && rows[0]!.n === count

describe("outbox delivery across replicas", () => {
  it.scopedLive("two replicas on one database deliver every event exactly once", () =>
    Effect.gen(function*() {
      const url = yield* testDatabaseUrl
      const receiver = yield* fakeWebhookReceiver
      const [a, b] = yield* startReplicas(url, ENV)
      yield* configureTenant(a, "twin", receiver)
      // Both replicas hear the tenant change before the events arrive.
      yield* eventuallyHolds(call(b, "GET", "/api/v1/admin/tenants/twin", { headers: adminHeaders }), (r) => r.status === 200)
      const ids = yield* commitEvents(url, "twin", 200)
      yield* eventuallyHolds(statuses(url, "twin"), (rows) => allDelivered(rows, 200), 60_000)
      const got = receiver.on("/twin")
      expect(got.map((r) => r.headers["webhook-id"]).sort()).toEqual([...ids].sort())
      for (const r of got.slice(0, 5)) expect(new Webhook(SECRET).verify(r.body, r.headers)).toMatchObject({ tenant_id: "twin" })
    }), 120_000)

  it.scopedLive("a replica SIGKILLed mid-delivery loses nothing: another delivers every event once its claims expire", () =>
    Effect.gen(function*() {
      const url = yield* testDatabaseUrl
      const receiver = yield* fakeWebhookReceiver
      // The first requests hang, so the first replica dies holding claims with requests in flight.
      receiver.script("/killed", ["hang", "hang", "hang", "hang", { status: 200 }])
      const first = yield* startReplica(url, ENV)
      yield* configureTenant(first, "killed", receiver)
      const ids = yield* commitEvents(url, "killed", 40)
      yield* eventuallyHolds(Effect.sync(() => receiver.hanging()), (n) => n >= 4, 30_000)
      first.process.kill("SIGKILL")
      yield* exited(first)
      // The hanging deliveries died with it, claimed but never recorded.
      const afterKill = yield* statuses(url, "killed")
      expect(afterKill.find((row) => row.status === "pending")?.n).toBeGreaterThanOrEqual(4)

      yield* startReplica(url, ENV)
      yield* eventuallyHolds(statuses(url, "killed"), (rows) => allDelivered(rows, 40), 60_000)
      const delivered = new Set(receiver.on("/killed").map((r) => r.headers["webhook-id"]))
      expect([...delivered].sort()).toEqual([...ids].sort())
    }), 120_000)

  it.scopedLive("a replica stopped with SIGTERM hands its claims back: another delivers them before the lease would expire", () =>
    Effect.gen(function*() {
      const url = yield* testDatabaseUrl
      const receiver = yield* fakeWebhookReceiver
      receiver.script("/stopped", ["hang", "hang", "hang", "hang", { status: 200 }])
      // A lease far longer than the test may wait: only a released claim can be delivered in time.
      const env = { ...ENV, OUTBOX_LEASE_SECONDS: "600" }
      const [first, second] = yield* startReplicas(url, env)
      yield* configureTenant(first, "stopped", receiver)
      yield* eventuallyHolds(call(second, "GET", "/api/v1/admin/tenants/stopped", { headers: adminHeaders }), (r) => r.status === 200)
      const ids = yield* commitEvents(url, "stopped", 40)
      yield* eventuallyHolds(Effect.sync(() => receiver.hanging()), (n) => n >= 4, 30_000)
      // Whichever replica holds the hanging deliveries stops; the other one takes over.
      for (const replica of [first, second]) replica.process.kill("SIGTERM")
      yield* Effect.all([exited(first), exited(second)], { concurrency: 2 })
      yield* startReplica(url, env)
      yield* eventuallyHolds(statuses(url, "stopped"), (rows) => allDelivered(rows, 40), 30_000)
      const delivered = new Set(receiver.on("/stopped").map((r) => r.headers["webhook-id"]))
      expect([...delivered].sort()).toEqual([...ids].sort())
    }), 120_000)
})
