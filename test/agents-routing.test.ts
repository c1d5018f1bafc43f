import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { admin, createAgent, createTenant, createVersion, publish, setRollout } from "./support/AgentFixtures.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { makeTestServer } from "./support/TestServer.js"

layer(makeTestServer())("rollouts and phone-number routes", (it) => {
  it.effect("replaces and lists an agent's rollout set", () =>
    Effect.gen(function*() {
      yield* createTenant("ro")
      const a = yield* createAgent("ro", "a")
      const v1 = yield* createVersion("ro", a.id)
      const v2 = yield* createVersion("ro", a.id)

      const put = yield* admin("PUT", `/tenants/ro/agents/${a.id}/rollouts`, {
        entries: [
          { agent_version_id: v1.id, traffic_percentage: 70 },
          { agent_version_id: v2.id, traffic_percentage: 30 }
        ]
      })
      expect(put.status).toBe(200)
      expectSpecSchema(put.body, "AdminAgentVersionRolloutsResponse")
      expect(put.body.count).toBe(2)
      expect(put.body.rollouts.map((r: any) => [r.agent_version_id, r.traffic_percentage, r.position, r.version_number]))
        .toEqual([[v1.id, 70, 0, 1], [v2.id, 30, 1, 2]])
      expect(put.body.rollouts[0]).toMatchObject({ tenant_id: "ro", agent_id: a.id, agent_key: "a", agent_name: "Agent a" })

      const list = yield* admin("GET", `/tenants/ro/agents/${a.id}/rollouts`)
      expect(list.status).toBe(200)
      expectSpecSchema(list.body, "AdminAgentVersionRolloutsResponse")
      expect(list.body.rollouts).toEqual(put.body.rollouts)

      // A replacement keeps the row of a version that stays in the set.
      const swapped = yield* setRollout("ro", a.id, [
        { agent_version_id: v2.id, traffic_percentage: 50 },
        { agent_version_id: v1.id, traffic_percentage: 50 }
      ])
      expect(swapped.rollouts.map((r: any) => r.agent_version_id)).toEqual([v2.id, v1.id])
      expect(swapped.rollouts[1].id).toBe(put.body.rollouts[0].id)

      const cleared = yield* setRollout("ro", a.id, [])
      expect(cleared.count).toBe(0)
      const clearedNoBody = yield* admin("PUT", `/tenants/ro/agents/${a.id}/rollouts`, {})
      expect(clearedNoBody.status).toBe(200)
    }))

  it.effect("rejects rollout sets that do not add up or name foreign versions", () =>
    Effect.gen(function*() {
      yield* createTenant("ro-bad")
      const a = yield* createAgent("ro-bad", "a")
      const b = yield* createAgent("ro-bad", "b")
      const v1 = yield* createVersion("ro-bad", a.id)
      const v2 = yield* createVersion("ro-bad", a.id)
      const other = yield* createVersion("ro-bad", b.id)
      const cases: ReadonlyArray<[unknown, string]> = [
        [[{ agent_version_id: v1.id, traffic_percentage: 60 }, { agent_version_id: v2.id, traffic_percentage: 30 }], "add up to 100"],
        [[{ agent_version_id: v1.id, traffic_percentage: 50 }, { agent_version_id: other.id, traffic_percentage: 50 }], "not a version of agent"],
        [[{ agent_version_id: v1.id, traffic_percentage: 50 }, { agent_version_id: v1.id, traffic_percentage: 50 }], "more than once"],
        [[{ agent_version_id: v1.id, traffic_percentage: 120 }], "between 0 and 100"],
        [[{ agent_version_id: v1.id, traffic_percentage: -10 }, { agent_version_id: v2.id, traffic_percentage: 110 }], "between 0 and 100"],
        [[{ agent_version_id: v1.id, traffic_percentage: 50.5 }, { agent_version_id: v2.id, traffic_percentage: 49.5 }], "integer"],
        [[{ agent_version_id: "nope", traffic_percentage: 100 }], "UUID"]
      ]
      for (const [entries, message] of cases) {
        const res = yield* admin("PUT", `/tenants/ro-bad/agents/${a.id}/rollouts`, { entries })
        expect(res.status, JSON.stringify(entries)).toBe(400)
        expectSpecSchema(res.body, "AdminErrorResponse")
        expect(res.body.error).toContain(message)
      }
      const unchanged = yield* admin("GET", `/tenants/ro-bad/agents/${a.id}/rollouts`)
      expect(unchanged.body.count).toBe(0)
      const unknownAgent = yield* admin("GET", "/tenants/ro-bad/agents/00000000-0000-4000-8000-000000000000/rollouts")
      expect(unknownAgent.status).toBe(404)
    }))

  it.effect("upserts phone-number routes by number+direction or by id, with resolved versions", () =>
    Effect.gen(function*() {
      yield* createTenant("rt")
      const a = yield* createAgent("rt", "a")
      const v1 = yield* createVersion("rt", a.id)
      const v2 = yield* createVersion("rt", a.id)

      const created = yield* admin("PUT", "/tenants/rt/phone-number-routes", {
        phone_number: "+15555550100",
        direction: "inbound",
        agent_id: a.id,
        greeting: "Thanks for calling"
      })
      expect(created.status).toBe(200)
      expectSpecSchema(created.body, "AdminPhoneNumberRouteResponse")
      expect(created.body.route).toMatchObject({
        tenant_id: "rt",
        phone_number: "+15555550100",
        direction: "inbound",
        agent_id: a.id,
        agent_key: "a",
        agent_name: "Agent a",
        agent_version_id: null,
        greeting: "Thanks for calling",
        resolved_agent_version_id: null,
        resolved_version_number: null
      })

      // Publishing resolves unpinned routes to the published version.
      yield* publish("rt", v1.id)
      const listed = yield* admin("GET", "/tenants/rt/phone-number-routes")
      expect(listed.status).toBe(200)
      expectSpecSchema(listed.body, "AdminPhoneNumberRoutesResponse")
      expect(listed.body.routes[0]).toMatchObject({ resolved_agent_version_id: v1.id, resolved_version_number: 1 })

      // Same number and direction: the route is updated in place and now pins v2.
      const pinned = yield* admin("PUT", "/tenants/rt/phone-number-routes", {
        phone_number: "+15555550100",
        direction: "inbound",
        agent_id: a.id,
        agent_version_id: v2.id
      })
      expect(pinned.status).toBe(200)
      expect(pinned.body.route).toMatchObject({
        id: created.body.route.id,
        agent_version_id: v2.id,
        resolved_agent_version_id: v2.id,
        resolved_version_number: 2,
        greeting: null
      })

      // By id: the number itself can change.
      const moved = yield* admin("PUT", "/tenants/rt/phone-number-routes", {
        id: created.body.route.id,
        phone_number: "+15555550101",
        direction: "inbound",
        agent_id: a.id
      })
      expect(moved.status).toBe(200)
      expect(moved.body.route).toMatchObject({ id: created.body.route.id, phone_number: "+15555550101" })

      const outbound = yield* admin("PUT", "/tenants/rt/phone-number-routes", {
        phone_number: "+15555550101",
        direction: "outbound",
        agent_id: a.id
      })
      expect(outbound.status).toBe(200)
      expect(outbound.body.route.id).not.toBe(created.body.route.id)
      const two = yield* admin("GET", "/tenants/rt/phone-number-routes")
      expect(two.body.count).toBe(2)

      const removed = yield* admin("DELETE", `/tenants/rt/phone-number-routes/${outbound.body.route.id}`)
      expect(removed.status).toBe(200)
      expectSpecSchema(removed.body, "AdminPhoneNumberRouteResponse")
      expect(removed.body.route.id).toBe(outbound.body.route.id)
      const gone = yield* admin("DELETE", `/tenants/rt/phone-number-routes/${outbound.body.route.id}`)
      expect(gone.status).toBe(404)
      expectSpecSchema(gone.body, "AdminErrorResponse")
    }))

  it.effect("validates routes and keeps numbers to one tenant", () =>
    Effect.gen(function*() {
      yield* createTenant("rt-a")
      yield* createTenant("rt-b")
      const a = yield* createAgent("rt-a", "a")
      const other = yield* createAgent("rt-a", "other")
      const otherVersion = yield* createVersion("rt-a", other.id)
      const b = yield* createAgent("rt-b", "b")
      const route = (tenant: string, body: Record<string, unknown>) => admin("PUT", `/tenants/${tenant}/phone-number-routes`, body)

      for (const phone of ["5555550100", "+0555550100", "+1 555 555 0100", "+1555"]) {
        const res = yield* route("rt-a", { phone_number: phone, direction: "inbound", agent_id: a.id })
        expect(res.status, phone).toBe(400)
        expect(res.body.error).toContain("E.164")
      }
      const badDirection = yield* route("rt-a", { phone_number: "+15555550199", direction: "sideways", agent_id: a.id })
      expect(badDirection.status).toBe(400)
      const wrongVersion = yield* route("rt-a", {
        phone_number: "+15555550199",
        direction: "inbound",
        agent_id: a.id,
        agent_version_id: otherVersion.id
      })
      expect(wrongVersion.status).toBe(400)
      expect(wrongVersion.body.error).toContain("not a version of agent")
      const foreignAgent = yield* route("rt-a", { phone_number: "+15555550199", direction: "inbound", agent_id: b.id })
      expect(foreignAgent.status).toBe(404)

      const owned = yield* route("rt-a", { phone_number: "+15555550199", direction: "inbound", agent_id: a.id })
      expect(owned.status).toBe(200)
      const stolen = yield* route("rt-b", { phone_number: "+15555550199", direction: "inbound", agent_id: b.id })
      expect(stolen.status).toBe(400)
      expect(stolen.body.error).toContain("another tenant")
      expectSpecSchema(stolen.body, "AdminErrorResponse")

      // Another tenant can neither see, update by id, nor delete the route.
      const listB = yield* admin("GET", "/tenants/rt-b/phone-number-routes")
      expect(listB.body.count).toBe(0)
      const byId = yield* route("rt-b", {
        id: owned.body.route.id,
        phone_number: "+15555550198",
        direction: "inbound",
        agent_id: b.id
      })
      expect(byId.status).toBe(404)
      const del = yield* admin("DELETE", `/tenants/rt-b/phone-number-routes/${owned.body.route.id}`)
      expect(del.status).toBe(404)
      const stillThere = yield* admin("GET", "/tenants/rt-a/phone-number-routes")
      expect(stillThere.body.count).toBe(1)
    }))
})
