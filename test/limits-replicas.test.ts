import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { startFakeTwilio } from "./support/FakeTwilio.js"
import { accountSid, ringAt } from "./support/FakeTwilioServer.js"
import { eventually } from "./support/Eventually.js"
import { call, type Replica, startReplicas } from "./support/Replicas.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"
import { adminHeaders } from "./support/TestServer.js"

const FROM = "+15550008000"

const putTenant = (replica: Replica, id: string, limits: Record<string, unknown>) =>
  call(replica, "PUT", `/api/v1/admin/tenants/${id}`, {
    headers: adminHeaders,
    json: {
      tenant_id: id,
      auth_token: `${id}-bearer-token-0123456789`,
      twilio: { account_sid: accountSid(id), auth_token: `${id}-twilio-token`, from_number: FROM },
      limits
    }
  })

const makeCall = (replica: Replica, id: string, to: string) =>
  Effect.map(
    call(replica, "POST", "/api/v1/make-call", { headers: { authorization: `Bearer ${id}-bearer-token-0123456789` }, json: { to } }),
    (res) => res.status
  )

/** A signed inbound call webhook; the tenant is found by its account's signature. */
const ring = (replica: Replica, id: string, to: string) =>
  Effect.map(
    ringAt(replica.baseUrl, { accountSid: accountSid(id), authToken: `${id}-twilio-token`, to, from: "+15557659876" }),
    (res) => res.text
  )

/** `n` requests at once, alternating between the replicas. */
const burst = <A>(n: number, replicas: ReadonlyArray<Replica>, one: (replica: Replica) => Effect.Effect<A>) =>
  Effect.all(Array.from({ length: n }, (_, i) => one(replicas[i % replicas.length]!)), { concurrency: "unbounded" })

const count = <A>(values: ReadonlyArray<A>, value: A) => values.filter((v) => v === value).length

describe("limits across two replicas", () => {
  it.live("caps hold cluster-wide under concurrent requests, and a config change applies on the other replica", () =>
    Effect.gen(function*() {
      const twilio = yield* startFakeTwilio
      const url = yield* testDatabaseUrl
      const env = { TWILIO_API_BASE_URL: twilio.baseUrl }
      const [a, b] = yield* startReplicas(url, env)
      for (const id of ["fleet", "burst", "lobby"]) twilio.accounts.set(accountSid(id), `${id}-twilio-token`)
      const dials = (to: string) => twilio.requests.filter((r) => r.form.To === to).length

      // Concurrency: 12 make-calls at once over both replicas, cap 3.
      expect((yield* putTenant(a, "fleet", { max_concurrent_calls: 3 })).status).toBe(200)
      const fleet = yield* burst(12, [a, b], (r) => makeCall(r, "fleet", "+15557650001"))
      expect([count(fleet, 200), count(fleet, 429)]).toEqual([3, 9])
      expect(dials("+15557650001")).toBe(3)

      // Raised on A: B admits the next calls without a restart (tenant cache NOTIFY), up to the new cap.
      expect((yield* putTenant(a, "fleet", { max_concurrent_calls: 5 })).status).toBe(200)
      expect(yield* eventually(makeCall(b, "fleet", "+15557650001"), (status) => status === 200)).toBe(200)
      const more = yield* burst(6, [a, b], (r) => makeCall(r, "fleet", "+15557650001"))
      expect(count(more, 200)).toBe(1)
      expect(dials("+15557650001")).toBe(5)

      // Velocity: 10 at once, 4 a day.
      expect((yield* putTenant(b, "burst", { outbound_calls_per_day: 4, max_concurrent_calls: 100 })).status).toBe(200)
      const calls = yield* burst(10, [a, b], (r) => makeCall(r, "burst", "+15557650002"))
      expect([count(calls, 200), count(calls, 429)]).toEqual([4, 6])
      expect(dials("+15557650002")).toBe(4)

      // Inbound: 8 callers at once over both replicas, cap 2; the others hear the busy message.
      expect((yield* putTenant(a, "lobby", { max_concurrent_calls: 2 })).status).toBe(200)
      const answers = yield* burst(8, [a, b], (r) => ring(r, "lobby", "+15550008100"))
      expect(answers.filter((t) => t.includes("<Connect>")).length).toBe(2)
      expect(answers.filter((t) => t.includes("All of our lines are busy") && t.includes("<Hangup/>")).length).toBe(6)

      // Usage is the same from either replica.
      const usage = yield* call(b, "GET", "/api/v1/admin/tenants/fleet/runtime", { headers: adminHeaders })
      expect(usage.body.config.limits.concurrent_calls).toEqual({ used: 5, limit: 5 })
    }).pipe(Effect.scoped), 120_000)
})
