import { SqlClient } from "@effect/sql"
import { describe, expect, it, layer } from "@effect/vitest"
import { Duration, Effect } from "effect"
import { randomUUID } from "node:crypto"
import { eventually, eventuallyHolds } from "./support/Eventually.js"
import { accountSid, agentWithRoute, newCallSid, putTenant, sign, twilioWebhook } from "./support/FakeTwilioServer.js"
import { parseXml, streamParameters } from "./support/FakeTwilioXml.js"
import { call, type Replica, startReplica, startReplicas } from "./support/Replicas.js"
import { query, testDatabaseUrl } from "./support/TestDatabase.js"
import { adminHeaders, makeTestServer, request } from "./support/TestServer.js"

/**
 * Admissions reserved ahead (src/Limits/AdmissionsAhead.ts): a webhook whose tenant has a
 * reservation on the replica is answered with no statement on its path; the caps stay exact
 * across replicas; near a cap, or with a monthly budget, the webhook admits as before.
 */

const BUSY = "All of our lines are busy"
const AHEAD = 4

const inboundTenant = (id: string, number: string, limits: Record<string, unknown>) =>
  Effect.gen(function*() {
    yield* putTenant(id, { twilio: { account_sid: accountSid(id), auth_token: `${id}-twilio-token`, from_number: "+15550008000" }, limits })
    yield* agentWithRoute(id, { phoneNumber: number })
    return (callSid = newCallSid()) =>
      twilioWebhook("/api/v1/incoming-call", { CallSid: callSid, AccountSid: accountSid(id), From: "+15557659000", To: number, CallStatus: "ringing" }, {
        authToken: `${id}-twilio-token`
      })
  })

const connects = (text: string) => {
  expect(text).toContain("<Connect>")
  return streamParameters(parseXml(text))
}

/** The tenant's reservations: its admissions with no call yet. */
const reserved = (tenantId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(sql<{ n: number }>`select count(*)::int as n from call_admissions where tenant_id = ${tenantId} and call_sid is null`,
      (rows) => rows[0]!.n))

/** The tenant's admissions of calls (reservations taken by webhooks included, once written). */
const admitted = (tenantId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(sql<{ n: number }>`select count(*)::int as n from call_admissions where tenant_id = ${tenantId} and call_sid is not null`,
      (rows) => rows[0]!.n))

const admissionsOf = (tenantId: string, callSid: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(sql<{ n: number }>`select count(*)::int as n from call_admissions where tenant_id = ${tenantId} and call_sid = ${callSid}`,
      (rows) => rows[0]!.n))

const sighting = (tenantId: string, callSid: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ from_number: string | null; twilio_status: string | null; direction: string }>`
      select from_number, twilio_status, direction from call_logs where tenant_id = ${tenantId} and call_sid = ${callSid}`)

/**
 * The tenant's advisory admission lock held by another session (as another replica's admission
 * holds it) for the length of the scope: every admission statement of the tenant waits for it.
 */
const holdingAdmissionLock = (tenantId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const connection = yield* sql.reserve
    yield* connection.executeRaw("select pg_advisory_lock(hashtext('call-admission:' || $1))", [tenantId])
    // Unlocked before the connection goes back to the pool.
    yield* Effect.addFinalizer(() => Effect.ignore(connection.executeRaw("select pg_advisory_unlock_all()", [])))
  })

/** The answer, or None when none came within `ms` (the webhook is waiting on the database). */
const within = <A, E, R>(ms: number, effect: Effect.Effect<A, E, R>) => Effect.timeoutOption(effect, Duration.millis(ms))

layer(makeTestServer({
  CALL_ADMISSIONS_AHEAD: String(AHEAD),
  // Reservations stop at half the replica's cap: room for the burst test's unstarted calls beside the others'.
  MAX_CALLS_PER_REPLICA: "1000"
}), { excludeTestServices: true })("admissions reserved ahead", (it) => {
  it.effect("a webhook is answered from a reservation while the tenant's admission lock is held; its admission and sighting follow", () =>
    Effect.gen(function*() {
      const id = "ahead-lock"
      const ring = yield* inboundTenant(id, "+15550009101", { max_concurrent_calls: 20 })
      connects((yield* ring()).text)
      // The first call was admitted by its statement; the tenant takes calls, so the replica reserves ahead.
      expect(yield* eventually(reserved(id), (n) => n === AHEAD)).toBe(AHEAD)

      const sid = newCallSid()
      const answered = yield* Effect.scoped(Effect.gen(function*() {
        yield* holdingAdmissionLock(id)
        const answer = yield* within(2_000, ring(sid))
        // While the lock is still held: written after the answer, by a statement that needs no lock.
        yield* eventuallyHolds(admissionsOf(id, sid), (n) => n === 1)
        yield* eventuallyHolds(sighting(id, sid), (rows) => rows.length === 1)
        return answer
      }))
      expect(answered._tag).toBe("Some")
      if (answered._tag === "Some") expect(connects(answered.value.text).call_sid).toBe(sid)
      expect(yield* sighting(id, sid)).toEqual([{ from_number: "+15557659000", twilio_status: "ringing", direction: "inbound" }])
      // One taken: the pool is topped up only once half are used.
      expect(yield* reserved(id)).toBe(AHEAD - 1)
      connects((yield* ring()).text)
      expect(yield* eventually(reserved(id), (n) => n === AHEAD)).toBe(AHEAD)
      // The runtime view's `used` is the three calls admitted, not the slots reserved beside them.
      const runtime = yield* request("GET", `/api/v1/admin/tenants/${id}/runtime`, { headers: adminHeaders })
      expect(runtime.status).toBe(200)
      expect(runtime.body.config.limits.concurrent_calls).toEqual({ used: 3, limit: 20 })
      expect(runtime.body.config.limits.replica_calls.used).toBe(3)
    }))

  it.effect("calls arriving faster than the pool refills double it; once quiet it shrinks back", () =>
    Effect.gen(function*() {
      const id = "ahead-burst"
      const ring = yield* inboundTenant(id, "+15550009109", { max_concurrent_calls: 1000 })
      connects((yield* ring()).text)
      yield* eventuallyHolds(reserved(id), (n) => n === AHEAD)
      // Twice the pool while another session holds the tenant's admission lock. One by one first: at
      // half, the pool's top-up starts and waits on the lock. Then the rest at once: the last
      // reservation answers one, the others find the pool empty while that top-up is in flight and
      // wait on their statements.
      const answers = yield* Effect.scoped(Effect.gen(function*() {
        yield* holdingAdmissionLock(id)
        for (let i = 0; i < AHEAD - 1; i++) connects((yield* ring()).text)
        const fibers = yield* Effect.forEach(Array.from({ length: AHEAD + 1 }), () => Effect.fork(ring()))
        yield* eventuallyHolds(Effect.sync(() => fibers.filter((fiber) => fiber.unsafePoll() !== null).length), (n) => n === 1)
        return fibers
      }))
      // Ran dry, so a top-up reserves twice as many (read at once: a quiet second halves it again).
      // The reservations taken above had their SIDs written while the lock was held (no lock needed).
      expect(yield* eventually(reserved(id), (n) => n === 2 * AHEAD, 3_000)).toBe(2 * AHEAD)
      for (const fiber of answers) connects((yield* fiber.await.pipe(Effect.flatten)).text)
      yield* eventuallyHolds(admitted(id), (n) => n === 1 + 2 * AHEAD)
      // Quiet: halved each second without takers and the surplus given back, before the idle release (10 s) ends it all.
      expect(yield* eventually(reserved(id), (n) => n === AHEAD, 6_000)).toBe(AHEAD)
    }))

  it.effect("near the cap, and with a monthly budget, no reservation is taken: the webhook waits for its statement", () =>
    Effect.gen(function*() {
      const near = "ahead-near"
      const budget = "ahead-budget"
      const control = "ahead-control"
      const ringNear = yield* inboundTenant(near, "+15550009102", { max_concurrent_calls: 2 })
      const ringBudget = yield* inboundTenant(budget, "+15550009103", { max_concurrent_calls: 20, monthly_call_minutes: 1000 })
      const ringControl = yield* inboundTenant(control, "+15550009104", { max_concurrent_calls: 20 })
      connects((yield* ringNear()).text)
      connects((yield* ringBudget()).text)
      connects((yield* ringControl()).text)
      // Top-ups run in the order asked for: once the control tenant has its reservations, the others' were decided.
      expect(yield* eventually(reserved(control), (n) => n === AHEAD)).toBe(AHEAD)
      expect(yield* reserved(near)).toBe(0)
      expect(yield* reserved(budget)).toBe(0)

      for (const [id, ring] of [[near, ringNear], [budget, ringBudget]] as const) {
        const sid = newCallSid()
        const answer = yield* Effect.scoped(Effect.gen(function*() {
          yield* holdingAdmissionLock(id)
          const fiber = yield* Effect.fork(ring(sid))
          // Held: the webhook's statement waits (no answer), then goes on once the lock is free.
          expect((yield* within(500, fiber.await))._tag).toBe("None")
          return fiber
        }))
        connects((yield* answer.await.pipe(Effect.flatten)).text)
        expect(yield* admissionsOf(id, sid)).toBe(1)
      }
      expect(yield* reserved(near)).toBe(0)
      expect(yield* reserved(budget)).toBe(0)
    }))

  it.effect("a reservation whose call's stream started before (or while) its SID was written leaves no admission behind", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const id = "ahead-late"
      yield* inboundTenant(id, "+15550009106", { max_concurrent_calls: 20 })
      const [late, early] = [newCallSid(), newCallSid()]
      const [lateId, earlyId] = [randomUUID(), randomUUID()]
      // Two reservations; the first call's stream started (and its record was written) before the
      // webhook's write ran, the second's not yet.
      for (const reservation of [lateId, earlyId]) {
        yield* sql`insert into call_admissions (id, tenant_id, replica_id, direction, call_sid, admitted_at)
                   values (${reservation}, ${id}, 'replica-a', 'inbound', null, now())`
      }
      yield* sql`insert into call_logs (id, tenant_id, call_sid, direction, first_seen_at, media_started_at)
                 values (${randomUUID()}, ${id}, ${late}, 'inbound', now(), now())`
      yield* sql`select reserved_admissions_taken(
        ${[lateId, earlyId]}::uuid[], ${[id, id]}::text[], 'replica-a', ${[late, early]}::text[],
        ${[new Date().toISOString(), new Date().toISOString()]}::timestamptz[], ${[false, false]}::boolean[],
        ${[randomUUID(), randomUUID()]}::uuid[], ${[null, null]}::text[], ${[null, null]}::text[],
        ${[null, null]}::uuid[], ${[null, null]}::text[])`
      // The started call's admission would count nothing and be probed by every count until pruned.
      expect(yield* admissionsOf(id, late)).toBe(0)
      expect(yield* sql`select id from call_admissions where id = ${lateId}`).toEqual([])
      expect(yield* admissionsOf(id, early)).toBe(1)

      // The second call's stream starts while its SID is being written (neither statement sees the
      // other's row): the replica's next write settles its admission, even a write of no call.
      yield* sql`insert into call_logs (id, tenant_id, call_sid, direction, first_seen_at, media_started_at)
                 values (${randomUUID()}, ${id}, ${early}, 'inbound', now(), now())`
      const none: ReadonlyArray<string> = []
      yield* sql`select reserved_admissions_taken(${none}::uuid[], ${none}::text[], 'replica-a', ${none}::text[],
        ${none}::timestamptz[], ${none}::boolean[], ${none}::uuid[], ${none}::text[], ${none}::text[], ${none}::uuid[],
        ${none}::text[])`
      expect(yield* admissionsOf(id, early)).toBe(0)
    }))

  it.effect("a retried webhook (same CallSid) gets the same stream parameters and takes no second reservation", () =>
    Effect.gen(function*() {
      const id = "ahead-retry"
      const ring = yield* inboundTenant(id, "+15550009105", { max_concurrent_calls: 20 })
      connects((yield* ring()).text)
      expect(yield* eventually(reserved(id), (n) => n === AHEAD)).toBe(AHEAD)
      const sid = newCallSid()
      const [first, again] = yield* Effect.scoped(Effect.gen(function*() {
        // Both answered from this replica's memory: the lock keeps any statement (and top-up) waiting.
        yield* holdingAdmissionLock(id)
        const first = connects((yield* ring(sid)).text)
        const again = connects((yield* ring(sid)).text)
        return [first, again] as const
      }))
      // The token is minted per answer and the traceparent names each request's own span.
      const { stream_token: token1, traceparent: _t1, ...rest1 } = first
      const { stream_token: token2, traceparent: _t2, ...rest2 } = again
      expect(token1).toBeDefined()
      expect(token2).toBeDefined()
      expect(rest2).toEqual(rest1)
      expect(rest1.call_sid).toBe(sid)
      // One reservation taken (one admission for the call); not topped up before half are used.
      yield* eventuallyHolds(reserved(id), (n) => n === AHEAD - 1)
      expect(yield* admissionsOf(id, sid)).toBe(1)
      expect((yield* sighting(id, sid)).length).toBe(1)
    }))
})

const putTenantAt = (replica: Replica, id: string, limits: Record<string, unknown>) =>
  call(replica, "PUT", `/api/v1/admin/tenants/${id}`, {
    headers: adminHeaders,
    json: {
      tenant_id: id,
      auth_token: `${id}-bearer-token-0123456789`,
      twilio: { account_sid: accountSid(id), auth_token: `${id}-twilio-token`, from_number: "+15550008000" },
      limits
    }
  })

/** A signed inbound webhook to a replica (another process). */
const ringAt = (replica: Replica, id: string, to: string) =>
  Effect.promise(async () => {
    const params = { CallSid: newCallSid(), AccountSid: accountSid(id), From: "+15557659001", To: to, CallStatus: "ringing" }
    const res = await fetch(`${replica.baseUrl}/api/v1/incoming-call`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": sign(`${id}-twilio-token`, "/api/v1/incoming-call", params)
      },
      body: new URLSearchParams(params).toString()
    })
    return await res.text()
  })

const countRows = (url: string, text: string, values: ReadonlyArray<unknown>) =>
  Effect.map(query<{ n: number }>(url, text, values), (rows) => rows[0]!.n)

describe("admissions reserved ahead across replicas", () => {
  it.live("the tenant's cap holds exactly with two replicas answering from reservations; a stopping replica gives its reservations back", () =>
    Effect.gen(function*() {
      const url = yield* testDatabaseUrl
      const env = { CALL_ADMISSIONS_AHEAD: String(AHEAD), PUBLIC_BASE_URL: "http://voice.test" }
      const [a, b] = yield* startReplicas(url, env)
      const id = "ahead-fleet"
      const cap = 20
      const number = "+15550009201"
      expect((yield* putTenantAt(a, id, { max_concurrent_calls: cap })).status).toBe(200)
      const tenantReservations = countRows(url, "select count(*)::int as n from call_admissions where tenant_id = $1 and call_sid is null", [id])

      // One call on each replica (by statement); each then reserves AHEAD (1 + 4 + 1 + 4 <= cap / 2).
      expect(yield* ringAt(a, id, number)).toContain("<Connect>")
      yield* eventuallyHolds(tenantReservations, (n) => n === AHEAD)
      expect(yield* ringAt(b, id, number)).toContain("<Connect>")
      yield* eventuallyHolds(tenantReservations, (n) => n === 2 * AHEAD)

      // 40 callers at once over both replicas: the 18 places left, from reservations and statements.
      const answers = yield* Effect.all(Array.from({ length: 40 }, (_, i) => ringAt(i % 2 === 0 ? a : b, id, number)), {
        concurrency: "unbounded"
      })
      expect(answers.filter((t) => t.includes("<Connect>")).length).toBe(cap - 2)
      expect(answers.filter((t) => t.includes(BUSY) && t.includes("<Hangup/>")).length).toBe(40 - (cap - 2))
      // Every call let through has its admission and sighting; no reservation is left (over half the cap).
      yield* eventuallyHolds(
        countRows(url, "select count(*)::int as n from call_admissions where tenant_id = $1 and call_sid is not null", [id]),
        (n) => n === cap
      )
      expect(yield* countRows(url, "select count(*)::int as n from call_logs where tenant_id = $1", [id])).toBe(cap)
      expect(yield* tenantReservations).toBe(0)

      // A replica that stops gives back its reservations (SIGTERM: drains, then closes).
      const other = "ahead-stop"
      expect((yield* putTenantAt(a, other, { max_concurrent_calls: 100 })).status).toBe(200)
      const stopping = yield* Effect.scoped(Effect.gen(function*() {
        const c = yield* startReplica(url, env)
        expect(yield* ringAt(c, other, "+15550009202")).toContain("<Connect>")
        return yield* eventually(
          countRows(url, "select count(*)::int as n from call_admissions where tenant_id = $1 and call_sid is null", [other]),
          (n) => n === AHEAD
        )
      }))
      expect(stopping).toBe(AHEAD)
      expect(yield* countRows(url, "select count(*)::int as n from call_admissions where tenant_id = $1 and call_sid is null", [other]))
        .toBe(0)
    }).pipe(Effect.scoped), 120_000)
})
