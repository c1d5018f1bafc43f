import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { admin, createAgent, createTenant, createVersion, publish } from "./support/AgentFixtures.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { makeTestServer } from "./support/TestServer.js"

const UNKNOWN_UUID = "00000000-0000-4000-8000-000000000000"

layer(makeTestServer())("agents and versions", (it) => {
  it.effect("creates and lists agents; agent_key is unique per tenant", () =>
    Effect.gen(function*() {
      yield* createTenant("ag-one")
      yield* createTenant("ag-two")
      const created = yield* admin("POST", "/tenants/ag-one/agents", {
        agent_key: "support",
        name: "Support",
        description: "Front line"
      })
      expect(created.status).toBe(200)
      expectSpecSchema(created.body, "AdminAgentResponse")
      expect(created.body.agent).toMatchObject({ tenant_id: "ag-one", agent_key: "support", name: "Support", description: "Front line" })

      const again = yield* admin("POST", "/tenants/ag-one/agents", { agent_key: "support", name: "Other" })
      // The spec gives create_agent no 409: a taken key is bad input.
      expect(again.status).toBe(400)
      expectSpecSchema(again.body, "AdminErrorResponse")
      expect(again.body.error).toContain("support")

      // The same key in another tenant is fine.
      const other = yield* admin("POST", "/tenants/ag-two/agents", { agent_key: "support", name: "Two" })
      expect(other.status).toBe(200)

      const list = yield* admin("GET", "/tenants/ag-one/agents")
      expect(list.status).toBe(200)
      expectSpecSchema(list.body, "AdminAgentsResponse")
      expect(list.body.count).toBe(1)
      expect(list.body.agents[0].id).toBe(created.body.agent.id)
      expect(list.body.agents[0].description).toBe("Front line")
    }))

  it.effect("rejects bad agent input with 400 and unknown tenants with 404", () =>
    Effect.gen(function*() {
      yield* createTenant("ag-bad")
      const badKey = yield* admin("POST", "/tenants/ag-bad/agents", { agent_key: "has space", name: "X" })
      expect(badKey.status).toBe(400)
      expectSpecSchema(badKey.body, "AdminErrorResponse")
      expect(badKey.body.error).toContain("agent_key")
      const blank = yield* admin("POST", "/tenants/ag-bad/agents", { agent_key: "ok", name: "  " })
      expect(blank.status).toBe(400)
      expect(blank.body.error).toContain("name")
      const missing = yield* admin("POST", "/tenants/ag-bad/agents", { name: "X" })
      expect(missing.status).toBe(400)

      for (const [method, path] of [
        ["GET", "/tenants/nobody/agents"],
        ["GET", "/tenants/nobody/agent-versions"],
        ["GET", "/tenants/nobody/phone-number-routes"]
      ] as const) {
        const res = yield* admin(method, path)
        expect(res.status, path).toBe(404)
        expectSpecSchema(res.body, "AdminErrorResponse")
      }
      const create = yield* admin("POST", "/tenants/nobody/agents", { agent_key: "a", name: "A" })
      expect(create.status).toBe(404)
    }))

  it.effect("numbers drafts 1, 2, 3 per agent and keeps their config", () =>
    Effect.gen(function*() {
      yield* createTenant("ag-ver")
      const a = yield* createAgent("ag-ver", "a")
      const b = yield* createAgent("ag-ver", "b")
      const v1 = yield* admin("POST", "/tenants/ag-ver/agent-versions", {
        agent_id: a.id,
        config: { instructions: "Be brief", voice: "alloy", greeting: "Hi!" }
      })
      expect(v1.status).toBe(200)
      expectSpecSchema(v1.body, "AdminAgentVersionResponse")
      expect(v1.body.version).toMatchObject({
        agent_id: a.id,
        agent_key: "a",
        agent_name: "Agent a",
        tenant_id: "ag-ver",
        version_number: 1,
        status: "draft",
        published_at: null
      })
      expect(v1.body.version.config).toMatchObject({ instructions: "Be brief", voice: "alloy", greeting: "Hi!", chat_model: null })
      const v2 = yield* createVersion("ag-ver", a.id)
      const v3 = yield* createVersion("ag-ver", a.id)
      const b1 = yield* createVersion("ag-ver", b.id)
      expect([v2.version_number, v3.version_number, b1.version_number]).toEqual([2, 3, 1])

      const all = yield* admin("GET", "/tenants/ag-ver/agent-versions")
      expect(all.status).toBe(200)
      expectSpecSchema(all.body, "AdminAgentVersionsResponse")
      expect(all.body.count).toBe(4)
      const onlyB = yield* admin("GET", `/tenants/ag-ver/agent-versions?agent_id=${b.id}`)
      expect(onlyB.body.versions.map((v: { id: string }) => v.id)).toEqual([b1.id])

      const badQuery = yield* admin("GET", "/tenants/ag-ver/agent-versions?agent_id=nope")
      expect(badQuery.status).toBe(400)
      const unknownAgent = yield* admin("POST", "/tenants/ag-ver/agent-versions", { agent_id: UNKNOWN_UUID })
      expect(unknownAgent.status).toBe(404)
      const badConfig = yield* admin("POST", "/tenants/ag-ver/agent-versions", { agent_id: a.id, config: { voice: 7 } })
      expect(badConfig.status).toBe(400)
      expect(badConfig.body.error).toContain("voice")
    }))

  it.effect("publishing makes a version the agent's published one and freezes it", () =>
    Effect.gen(function*() {
      yield* createTenant("ag-pub")
      const a = yield* createAgent("ag-pub", "a")
      const v1 = yield* createVersion("ag-pub", a.id, { instructions: "one" })
      const v2 = yield* createVersion("ag-pub", a.id, { instructions: "two" })

      const published = yield* admin("POST", `/tenants/ag-pub/agent-versions/${v1.id}/publish`)
      expect(published.status).toBe(200)
      expectSpecSchema(published.body, "AdminAgentVersionResponse")
      expect(published.body.version.status).toBe("published")
      expect(published.body.version.published_at).toEqual(expect.any(String))

      yield* publish("ag-pub", v2.id)
      // v1 stays published (immutable) with its original publish time; republishing it moves the agent back.
      const again = yield* publish("ag-pub", v1.id)
      expect(again.status).toBe("published")
      expect(again.published_at).toBe(published.body.version.published_at)

      const notFound = yield* admin("POST", `/tenants/ag-pub/agent-versions/${UNKNOWN_UUID}/publish`)
      expect(notFound.status).toBe(404)
      const notUuid = yield* admin("POST", "/tenants/ag-pub/agent-versions/not-a-uuid/publish")
      expect(notUuid.status).toBe(404)
    }))

  it.effect("never shows one tenant's agents or versions to another", () =>
    Effect.gen(function*() {
      yield* createTenant("ag-iso-a")
      yield* createTenant("ag-iso-b")
      const a = yield* createAgent("ag-iso-a", "secret")
      const v = yield* createVersion("ag-iso-a", a.id)

      const list = yield* admin("GET", "/tenants/ag-iso-b/agents")
      expect(list.body.count).toBe(0)
      const versions = yield* admin("GET", `/tenants/ag-iso-b/agent-versions?agent_id=${a.id}`)
      expect(versions.status).toBe(404)
      const createForeign = yield* admin("POST", "/tenants/ag-iso-b/agent-versions", { agent_id: a.id })
      expect(createForeign.status).toBe(404)
      const publishForeign = yield* admin("POST", `/tenants/ag-iso-b/agent-versions/${v.id}/publish`)
      expect(publishForeign.status).toBe(404)
      const rollouts = yield* admin("GET", `/tenants/ag-iso-b/agents/${a.id}/rollouts`)
      expect(rollouts.status).toBe(404)
      const putRollouts = yield* admin("PUT", `/tenants/ag-iso-b/agents/${a.id}/rollouts`, {
        entries: [{ agent_version_id: v.id, traffic_percentage: 100 }]
      })
      expect(putRollouts.status).toBe(404)
    }))
})
