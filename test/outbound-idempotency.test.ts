import { SqlClient } from "@effect/sql"
import { expect } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { accountSid, FakeTwilioServer, putTenant, suiteWithFakeTwilio } from "./support/FakeTwilioServer.js"
import { OUTCOME_UNKNOWN } from "../src/Outbound/Idempotency.js"
import { eventuallyHolds } from "./support/Eventually.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { request } from "./support/TestServer.js"

const SID = accountSid("idempotent")
const TOKEN = "idempotent-twilio-auth-token"
const FROM = "+15550007000"
const acme = { authorization: "Bearer acme-bearer-token-0123456789" }
const other = { authorization: "Bearer other-bearer-token-0123456789" }

const makeCall = (body: unknown, key: string | undefined, headers = acme) =>
  request("POST", "/api/v1/make-call", { headers: key === undefined ? headers : { ...headers, "idempotency-key": key }, json: body })

const dials = Effect.map(FakeTwilioServer, (twilio) => twilio.requests.filter((r) => r.path.endsWith("/Calls.json")).length)

const Tenants = Layer.effectDiscard(Effect.gen(function*() {
  const twilio = yield* FakeTwilioServer
  twilio.accounts.set(SID, TOKEN)
  const settings = { twilio: { account_sid: SID, auth_token: TOKEN, from_number: FROM } }
  yield* putTenant("acme", settings)
  yield* putTenant("other", settings)
}))

// Twilio answering after 1 s is a timeout: its outcome is unknown.
suiteWithFakeTwilio({ TWILIO_REQUEST_TIMEOUT_MS: "1000" }, Tenants)("make-call Idempotency-Key", (it) => {
  it.effect("a retry with the same key answers the first call and never dials twice; another tenant's key is its own", () =>
    Effect.gen(function*() {
      const before = yield* dials
      const first = yield* makeCall({ to: "+15557651001" }, "retry-1")
      expect(first.status).toBe(200)
      expectSpecSchema(first.body, "MakeCallResponse")
      const again = yield* makeCall({ to: "+15557651001" }, "retry-1")
      expect(again.status).toBe(200)
      expect(again.body).toEqual(first.body)
      expect((yield* dials) - before).toBe(1)
      // The same key from another tenant is another request.
      const theirs = yield* makeCall({ to: "+15557651001" }, "retry-1", other)
      expect(theirs.status).toBe(200)
      expect(theirs.body.call_sid).not.toBe(first.body.call_sid)
      expect((yield* dials) - before).toBe(2)
      // Without a key every request dials.
      yield* makeCall({ to: "+15557651001" }, undefined)
      expect((yield* dials) - before).toBe(3)
    }))

  it.effect("the same key with another body is a 409 naming the key", () =>
    Effect.gen(function*() {
      expect((yield* makeCall({ to: "+15557651002" }, "conflict-1")).status).toBe(200)
      const before = yield* dials
      const conflicting = yield* makeCall({ to: "+15557651003" }, "conflict-1")
      expect(conflicting.status).toBe(409)
      expectSpecSchema(conflicting.body, "MakeCallResponse")
      expect(conflicting.body.ok).toBe(false)
      expect(conflicting.body.error).toContain("Idempotency-Key was already used with a different request body")
      expect(yield* dials).toBe(before)
      const bad = yield* makeCall({ to: "+15557651003" }, "x".repeat(256))
      expect(bad.status).toBe(400)
      expect(bad.body.error).toContain("Idempotency-Key")
    }))

  it.effect("concurrent duplicates dial once and all get the same answer", () =>
    Effect.gen(function*() {
      const before = yield* dials
      const answers = yield* Effect.all(
        Array.from({ length: 8 }, () => makeCall({ to: "+15557651004", greeting: "Hi" }, "burst-1")),
        { concurrency: "unbounded" }
      )
      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200))
      expect(new Set(answers.map((a) => a.body.call_sid)).size).toBe(1)
      expect((yield* dials) - before).toBe(1)
    }))

  it.effect("a failed first request frees the key; an expired key (24 h) dials again", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      twilio.failWith = "server_error"
      const failed = yield* makeCall({ to: "+15557651005" }, "fails-1")
      twilio.failWith = "none"
      expect(failed.status).toBe(503)
      const retried = yield* makeCall({ to: "+15557651005" }, "fails-1")
      expect(retried.status).toBe(200)
      const sql = yield* SqlClient.SqlClient
      yield* sql`update outbound_idempotency set created_at = now() - interval '25 hours'
                 where tenant_id = 'acme' and idempotency_key = 'fails-1'`.pipe(Effect.orDie)
      const before = yield* dials
      const fresh = yield* makeCall({ to: "+15557651006" }, "fails-1")
      expect(fresh.status).toBe(200)
      expect(fresh.body.call_sid).not.toBe(retried.body.call_sid)
      expect((yield* dials) - before).toBe(1)
      // Expired keys do not pile up: the tenant's next keyed request deletes them.
      expect((yield* makeCall({ to: "+15557651007" }, "old-1")).status).toBe(200)
      yield* sql`update outbound_idempotency set created_at = now() - interval '25 hours'
                 where tenant_id = 'acme' and idempotency_key = 'old-1'`.pipe(Effect.orDie)
      expect((yield* makeCall({ to: "+15557651008" }, "new-1")).status).toBe(200)
      const left = yield* sql`select 1 from outbound_idempotency where tenant_id = 'acme' and idempotency_key = 'old-1'`.pipe(
        Effect.orDie
      )
      expect(left).toHaveLength(0)
    }))
  it.effect("a Twilio timeout keeps the key: the retry is a 409 (outcome unknown), never a second dial", () =>
    Effect.gen(function*() {
      const twilio = yield* FakeTwilioServer
      const before = yield* dials
      // Twilio creates the call, but answers after our timeout.
      twilio.delayMs = 2_000
      const first = yield* makeCall({ to: "+15557651009" }, "slow-1").pipe(Effect.ensuring(Effect.sync(() => (twilio.delayMs = 0))))
      expect(first.status).toBe(503)
      expectSpecSchema(first.body, "MakeCallResponse")
      yield* eventuallyHolds(dials, (n) => n - before === 1)
      for (let attempt = 0; attempt < 2; attempt++) {
        const retried = yield* makeCall({ to: "+15557651009" }, "slow-1")
        expect(retried.status).toBe(409)
        expectSpecSchema(retried.body, "MakeCallResponse")
        expect(retried.body).toMatchObject({ ok: false, error: OUTCOME_UNKNOWN })
      }
      expect((yield* dials) - before).toBe(1)
      // Once the key expires it is a new request.
      const sql = yield* SqlClient.SqlClient
      yield* sql`update outbound_idempotency set created_at = now() - interval '25 hours'
                 where tenant_id = 'acme' and idempotency_key = 'slow-1'`.pipe(Effect.orDie)
      expect((yield* makeCall({ to: "+15557651009" }, "slow-1")).status).toBe(200)
      expect((yield* dials) - before).toBe(2)
    }))
})
