import { expect, layer } from "@effect/vitest"
import { Effect, Option } from "effect"
import { PhoneNumberRoutes } from "../src/PhoneRoutes/PhoneNumberRoutes.js"
import { VersionResolution } from "../src/Agents/VersionResolution.js"
import { pickVersion } from "../src/Rollouts/TrafficSplit.js"
import { admin, createAgent, createTenant, createVersion, publish, setRollout } from "./support/AgentFixtures.js"
import { makeTestServer } from "./support/TestServer.js"

const callSid = (i: number) => `CA${i.toString(16).padStart(32, "0")}`

/**
 * Set-up goes through the admin API; resolution is the in-process service the Twilio
 * webhooks call (the same instance the server runs), against the same database.
 */
layer(makeTestServer(), { timeout: 120_000 })("agent version resolution", (it) => {
  it.effect("splits calls by the rollout percentages, the same way every time", () =>
    Effect.gen(function*() {
      const resolution = yield* VersionResolution
      yield* createTenant("split")
      const agent = yield* createAgent("split", "default", "Split")
      const v1 = yield* createVersion("split", agent.id, { instructions: "v1", voice: "alloy" })
      const v2 = yield* createVersion("split", agent.id, { instructions: "v2" })
      const v3 = yield* createVersion("split", agent.id, { instructions: "v3" })
      yield* publish("split", v1.id)
      yield* setRollout("split", agent.id, [
        { agent_version_id: v1.id, traffic_percentage: 50 },
        { agent_version_id: v2.id, traffic_percentage: 30 },
        { agent_version_id: v3.id, traffic_percentage: 20 }
      ])

      // The split itself is a pure function of (agent, call SID): its distribution is checked
      // over 10,000 calls in memory; resolution through the database must agree with it.
      const weights = [
        { agent_version_id: v1.id, traffic_percentage: 50 },
        { agent_version_id: v2.id, traffic_percentage: 30 },
        { agent_version_id: v3.id, traffic_percentage: 20 }
      ]
      const N = 10_000
      const counts = new Map<string, number>()
      for (let i = 0; i < N; i++) {
        const id = pickVersion(weights, agent.id, callSid(i))!
        counts.set(id, (counts.get(id) ?? 0) + 1)
      }
      const share = (id: string) => (100 * (counts.get(id) ?? 0)) / N
      expect(Math.abs(share(v1.id) - 50)).toBeLessThanOrEqual(2)
      expect(Math.abs(share(v2.id) - 30)).toBeLessThanOrEqual(2)
      expect(Math.abs(share(v3.id) - 20)).toBeLessThanOrEqual(2)

      const sids = Array.from({ length: 600 }, (_, i) => callSid(i))
      const resolved = yield* Effect.forEach(
        sids,
        (sid) => resolution.resolve({ tenantId: "split", callSid: sid, agentId: agent.id, pinnedVersionId: null }),
        { concurrency: 10 }
      )
      resolved.forEach((r, i) => expect(Option.getOrThrow(r).versionId).toBe(pickVersion(weights, agent.id, sids[i]!)))
      expect(new Set(resolved.map((r) => Option.getOrThrow(r).versionId)).size).toBe(3)

      // The same call always gets the same version (and the default agent resolves the same way).
      const again = yield* Effect.forEach(
        sids.slice(0, 300),
        (sid) => resolution.resolve({ tenantId: "split", callSid: sid, agentId: null, pinnedVersionId: null }),
        { concurrency: 10 }
      )
      again.forEach((r, i) => expect(Option.getOrThrow(r).versionId).toBe(Option.getOrThrow(resolved[i]!).versionId))

      const first = Option.getOrThrow(resolved.find((r) => Option.getOrThrow(r).versionId === v1.id)!)
      expect(first).toMatchObject({
        agentId: agent.id,
        versionId: v1.id,
        versionNumber: 1,
        agentKey: "default",
        agentName: "Split",
        config: { instructions: "v1", voice: "alloy", realtime_model: null, greeting: null, assistant_profile: null, chat_model: null }
      })
    }))

  it.effect("a pinned version wins; without a rollout the published version serves", () =>
    Effect.gen(function*() {
      const resolution = yield* VersionResolution
      yield* createTenant("pin")
      const agent = yield* createAgent("pin", "main")
      const v1 = yield* createVersion("pin", agent.id)
      const v2 = yield* createVersion("pin", agent.id)
      const resolve = (sid: string, pinnedVersionId: string | null, agentId: string | null = agent.id) =>
        resolution.resolve({ tenantId: "pin", callSid: sid, agentId, pinnedVersionId })

      // Nothing published, no rollout: nothing to resolve (the caller uses tenant defaults).
      expect(Option.isNone(yield* resolve("CA1", null))).toBe(true)
      yield* publish("pin", v1.id)
      for (const sid of ["CA1", "CA2", "CA3"]) {
        expect(Option.getOrThrow(yield* resolve(sid, null)).versionId).toBe(v1.id)
        expect(Option.getOrThrow(yield* resolve(sid, v2.id)).versionId).toBe(v2.id)
      }
      // The only agent is the default one; a second agent without key "default" makes it ambiguous.
      expect(Option.getOrThrow(yield* resolve("CA1", null, null)).versionId).toBe(v1.id)
      yield* createAgent("pin", "second")
      expect(Option.isNone(yield* resolve("CA1", null, null))).toBe(true)
      // An unknown pin falls back to the agent; an unknown agent resolves to nothing.
      expect(Option.getOrThrow(yield* resolve("CA1", "00000000-0000-4000-8000-000000000000")).versionId).toBe(v1.id)
      expect(Option.isNone(yield* resolve("CA1", null, "00000000-0000-4000-8000-000000000000"))).toBe(true)
      expect(Option.isNone(yield* resolve("CA1", null, "not-a-uuid"))).toBe(true)

      // Another tenant can resolve neither the agent nor the version.
      yield* createTenant("pin-other")
      expect(Option.isNone(yield* resolution.byId("pin-other", v1.id))).toBe(true)
      expect(Option.isNone(
        yield* resolution.resolve({ tenantId: "pin-other", callSid: "CA1", agentId: agent.id, pinnedVersionId: v2.id })
      )).toBe(true)
      expect(Option.getOrThrow(yield* resolution.byId("pin", v2.id)).versionNumber).toBe(2)
    }))

  it.effect("looks up a dialled number across tenants", () =>
    Effect.gen(function*() {
      const routes = yield* PhoneNumberRoutes
      yield* createTenant("lookup")
      const agent = yield* createAgent("lookup", "main")
      const v1 = yield* createVersion("lookup", agent.id)
      const put = yield* admin("PUT", "/tenants/lookup/phone-number-routes", {
        phone_number: "+15555550142",
        direction: "inbound",
        agent_id: agent.id,
        agent_version_id: v1.id,
        greeting: "Hello"
      })
      expect(put.status).toBe(200)
      const found = yield* routes.lookup("+15555550142", "inbound")
      expect(Option.getOrThrow(found)).toEqual({
        tenantId: "lookup",
        routeId: put.body.route.id,
        agentId: agent.id,
        agentVersionId: v1.id,
        greeting: "Hello"
      })
      expect(Option.isNone(yield* routes.lookup("+15555550142", "outbound"))).toBe(true)
      expect(Option.isNone(yield* routes.lookup("+15555550143", "inbound"))).toBe(true)
    }))
})
