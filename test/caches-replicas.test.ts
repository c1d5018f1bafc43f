import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { accountSid, ringAt } from "./support/FakeTwilioServer.js"
import { parseXml, streamParameters } from "./support/FakeTwilioXml.js"
import { eventually } from "./support/Eventually.js"
import { call, type Replica, startReplicas } from "./support/Replicas.js"
import { query, testDatabaseUrl } from "./support/TestDatabase.js"
import { adminHeaders } from "./support/TestServer.js"

const SID = accountSid("caches")
const NUMBER = "+15550009100"
const TOKEN = "caches-token"
/** How long a change on one replica may take to reach the other: NOTIFY delivery, with room for a loaded machine. */
const BOUND_MS = 3000
/** Webhook calls never stream here, so each stays admitted: room for every one the test makes. */
const ROOMY = { TENANT_MAX_CONCURRENT_CALLS: "10000", MAX_CALLS_PER_REPLICA: "10000" }

const admin = (replica: Replica, method: string, path: string, json?: unknown) =>
  Effect.tap(call(replica, method, `/api/v1/admin${path}`, { headers: adminHeaders, ...(json === undefined ? {} : { json }) }), (res) =>
    Effect.sync(() => expect(res.status, res.text).toBe(200)))

/** The agent version a signed inbound webhook to `replica` connects the call to. */
const versionOfCall = (replica: Replica) =>
  Effect.map(ringAt(replica.baseUrl, { accountSid: SID, authToken: TOKEN, to: NUMBER }), (res) => {
    expect(res.status).toBe(200)
    return streamParameters(parseXml(res.text)).agent_version_id
  })

const status = (replica: Replica, token: string) =>
  Effect.map(call(replica, "GET", "/status", { headers: { authorization: `Bearer ${token}` } }), (res) => res.status)

/** A statement run by hand, as an operator would: no service of ours involved. */
const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.all([Effect.sync(() => Date.now()), effect, Effect.sync(() => Date.now())]), ([start, a, end]) => [a, end - start] as const)

describe("per-replica caches across replicas", () => {
  it.live("an agent, version or rollout change on replica A reaches webhooks on replica B", () =>
    Effect.gen(function*() {
      const url = yield* testDatabaseUrl
      const [a, b] = yield* startReplicas(url, ROOMY)
      yield* admin(a, "PUT", "/tenants/gamma", { tenant_id: "gamma", twilio: { account_sid: SID, auth_token: TOKEN } })
      const agent = (yield* admin(a, "POST", "/tenants/gamma/agents", { agent_key: "default", name: "Front desk" })).body.agent
      const v1 = (yield* admin(a, "POST", "/tenants/gamma/agent-versions", { agent_id: agent.id, config: { greeting: "one" } })).body.version
      yield* admin(a, "POST", `/tenants/gamma/agent-versions/${v1.id}/publish`)

      // B reads the agent once and answers from its cache afterwards.
      expect(yield* versionOfCall(b)).toBe(v1.id)
      expect(yield* versionOfCall(b)).toBe(v1.id)

      // Publishing v2 on A: B's next webhooks get v2 within the bound.
      const v2 = (yield* admin(a, "POST", "/tenants/gamma/agent-versions", { agent_id: agent.id, config: { greeting: "two" } })).body.version
      yield* admin(a, "POST", `/tenants/gamma/agent-versions/${v2.id}/publish`)
      const [published, publishedMs] = yield* timed(eventually(versionOfCall(b), (id) => id === v2.id, BOUND_MS))
      expect(published).toBe(v2.id)
      expect(publishedMs).toBeLessThan(BOUND_MS)
      // And A itself, the writer, at once.
      expect(yield* versionOfCall(a)).toBe(v2.id)

      // A rollout giving v1 all the traffic on A (promotion): B follows.
      yield* admin(a, "PUT", `/tenants/gamma/agents/${agent.id}/rollouts`, { entries: [{ agent_version_id: v1.id, traffic_percentage: 100 }] })
      expect(yield* eventually(versionOfCall(b), (id) => id === v1.id, BOUND_MS)).toBe(v1.id)

      // A hand-run UPDATE (no service involved) reaches both: the triggers announce it.
      yield* query(url, "delete from agent_version_rollouts where tenant_id = 'gamma'", [])
      yield* query(url, "update agents set published_version_id = $1 where id = $2", [v2.id, agent.id])
      for (const replica of [a, b]) expect(yield* eventually(versionOfCall(replica), (id) => id === v2.id, BOUND_MS)).toBe(v2.id)
      // Stable afterwards: no stale entry comes back.
      for (let i = 0; i < 3; i++) expect(yield* versionOfCall(b)).toBe(v2.id)
    }).pipe(Effect.scoped), 120_000)

  it.live("a key revoked on replica A is refused on replica B within the bound, and stays refused", () =>
    Effect.gen(function*() {
      const url = yield* testDatabaseUrl
      const [a, b] = yield* startReplicas(url)
      yield* admin(a, "PUT", "/tenants/acme", { tenant_id: "acme" })
      const first = (yield* admin(a, "POST", "/tenants/acme/api-keys", { label: "first" })).body.created
      const second = (yield* admin(a, "POST", "/tenants/acme/api-keys", { label: "second" })).body.created

      // Both replicas accept (and now remember) both keys.
      for (const replica of [a, b]) {
        for (const key of [first, second]) {
          expect(yield* status(replica, key.token)).toBe(200)
          expect(yield* status(replica, key.token)).toBe(200)
        }
      }

      // Revoked through A's API: A refuses at once, B within the bound.
      yield* admin(a, "DELETE", `/tenants/acme/api-keys/${first.api_key.id}`)
      expect(yield* status(a, first.token)).toBe(401)
      const [refused, refusedMs] = yield* timed(eventually(status(b, first.token), (s) => s === 401, BOUND_MS))
      expect(refused).toBe(401)
      expect(refusedMs).toBeLessThan(BOUND_MS)
      for (let i = 0; i < 3; i++) expect(yield* status(b, first.token)).toBe(401)
      // The other key is untouched.
      expect(yield* status(b, second.token)).toBe(200)

      // Revoked by hand in PostgreSQL: both replicas refuse it.
      yield* query(url, "update tenant_api_keys set revoked_at = now() where id = $1", [second.api_key.id])
      for (const replica of [a, b]) expect(yield* eventually(status(replica, second.token), (s) => s === 401, BOUND_MS)).toBe(401)
    }).pipe(Effect.scoped), 120_000)
})
