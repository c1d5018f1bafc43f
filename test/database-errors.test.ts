import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { UNAVAILABLE_MESSAGE, UNKNOWN_NUMBER_MESSAGE } from "../src/Twilio/Twiml.js"
import { admin, createAgent, createTenant, createVersion } from "./support/AgentFixtures.js"
import { accountSid, newCallSid, twilioWebhook } from "./support/FakeTwilioServer.js"
import { expectSpecSchema } from "./support/SpecSchemas.js"
import { bearer, request, type RawResponse, serverSuite } from "./support/TestServer.js"

/** PostgreSQL cannot store this in text or jsonb: it used to surface as a 503. */
const NUL = "\u0000"

const tenantApi = (token: string, method: "GET" | "POST", path: string, json?: unknown) =>
  request(method, `/api/v1${path}`, { headers: bearer(token), ...(json === undefined ? {} : { json }) })

const expectAdminError = (res: RawResponse, status: number) => {
  expect(res.status, res.text).toBe(status)
  expectSpecSchema(res.body, "AdminErrorResponse")
}

const expectTenantError = (res: RawResponse, status: number) => {
  expect(res.status, res.text).toBe(status)
  expectSpecSchema(res.body, "ErrorResponse")
}

serverSuite({ ADMIN_USERNAME: "ops", ADMIN_PASSWORD: "correct horse battery staple" })("database errors by kind", (it) => {
  let token = ""
  let agentId = ""

  it.effect("setup: a tenant with an agent and a version", () =>
    Effect.gen(function*() {
      token = yield* createTenant("acme")
      agentId = (yield* createAgent("acme", "front-desk")).id
      yield* createVersion("acme", agentId, { voice: "verse" })
    }))

  it.effect("an id in a path that is not a UUID names nothing: 404 wherever one is looked up", () =>
    Effect.gen(function*() {
      const adminPaths: ReadonlyArray<readonly ["GET" | "POST" | "PUT" | "DELETE", string, unknown?]> = [
        ["POST", "/tenants/acme/agent-versions/not-a-uuid/publish"],
        ["GET", "/tenants/acme/agents/not-a-uuid/rollouts"],
        ["PUT", "/tenants/acme/agents/not-a-uuid/rollouts", { entries: [] }],
        ["GET", "/tenants/acme/agents/not-a-uuid/rollout-policy"],
        ["POST", "/tenants/acme/agents/not-a-uuid/rollout-governance/evaluate", {}],
        ["DELETE", "/tenants/acme/phone-number-routes/not-a-uuid"]
      ]
      for (const [method, path, json] of adminPaths) {
        const res = yield* admin(method, path, json)
        expectAdminError(res, 404)
        expect(res.body.error, path).toContain("not-a-uuid")
      }
      for (const path of ["/call-logs/not-a-uuid", "/voice-sessions/not-a-uuid", "/voice-session-evals/by-session/not-a-uuid"]) {
        expectTenantError(yield* tenantApi(token, "GET", path), 404)
      }
    }))

  it.effect("a NUL byte in a path or a filter is a 400 naming it, before any SQL (issue 7)", () =>
    Effect.gen(function*() {
      expectAdminError(yield* admin("GET", "/tenants/ac%00me"), 400)
      expectAdminError(yield* admin("GET", "/tenants/ac%00me/agents"), 400)
      expectAdminError(yield* admin("DELETE", "/tenants/ac%00me"), 400)
      expectAdminError(yield* admin("DELETE", "/tenants/ac%00me/api-keys/00000000-0000-4000-8000-000000000000"), 400)
      expectTenantError(yield* tenantApi(token, "GET", "/voice-sessions/by-stream/MZ%00"), 400)
      expectTenantError(yield* tenantApi(token, "GET", "/voice-outcomes/by-stream/MZ%00"), 400)
      const calls = yield* tenantApi(token, "GET", "/call-logs?from_number=%2B1%00")
      expectTenantError(calls, 400)
      expect(calls.body.error).toContain("from_number")
      const sessions = yield* tenantApi(token, "GET", "/voice-sessions?search=a%00b")
      expectTenantError(sessions, 400)
      expect(sessions.body.error).toContain("search")
    }))

  it.effect("a NUL byte in a JSON body's text is a 400 in the operation's envelope, and nothing is stored", () =>
    Effect.gen(function*() {
      const agent = yield* admin("POST", "/tenants/acme/agents", { agent_key: "nul", name: "Nul", description: `a${NUL}b` })
      expectAdminError(agent, 400)
      expect(agent.body.error).toContain("NUL")
      expect((yield* admin("GET", "/tenants/acme/agents")).body.agents.map((a: { agent_key: string }) => a.agent_key))
        .toEqual(["front-desk"])

      // Inside a transaction (the version is numbered under the agent's row lock).
      const version = yield* admin("POST", "/tenants/acme/agent-versions", {
        agent_id: agentId,
        config: { instructions: `be kind${NUL}` }
      })
      expectAdminError(version, 400)
      expect((yield* admin("GET", `/tenants/acme/agent-versions?agent_id=${agentId}`)).body.versions).toHaveLength(1)

      const route = yield* admin("PUT", "/tenants/acme/phone-number-routes", {
        phone_number: "+15550001111",
        direction: "inbound",
        agent_id: agentId,
        greeting: `Hello${NUL}`
      })
      expectAdminError(route, 400)
      expect((yield* admin("GET", "/tenants/acme/phone-number-routes")).body.count).toBe(0)

      expectAdminError(yield* admin("PUT", "/tenants/beta", { tenant_id: "beta", org_id: `org${NUL}` }), 400)
      expectAdminError(yield* admin("GET", "/tenants/beta"), 404)
      expectAdminError(yield* admin("POST", "/tenants/acme/api-keys", { label: `ci${NUL}` }), 400)

      const access = yield* request("POST", "/api/v1/access-requests", {
        json: { company_name: "Acme", contact_name: "Jo", use_case: `Scheduling${NUL}`, work_email: "jo@acme.example" }
      })
      expect(access.status, access.text).toBe(400)
      expectSpecSchema(access.body, "ApiAccessRequestErrorResponse")

      expectTenantError(yield* tenantApi(token, "POST", "/voice-sessions", { stream_id: "MZnul1", summary: `x${NUL}` }), 400)
      expectTenantError(
        yield* tenantApi(token, "POST", "/voice-sessions", { stream_id: "MZnul2", metadata: { note: `x${NUL}` } }),
        400
      )
      expect((yield* tenantApi(token, "GET", "/voice-sessions")).body.count).toBe(0)

      // Refused at the edge like any other text field (issue 7): a 400 naming the field.
      const login = yield* request("POST", "/api/v1/admin/auth/login", {
        json: { username: `ops${NUL}`, password: "correct horse battery staple" }
      })
      expectAdminError(login, 400)
      expect(login.body.error).toContain("username")
    }))

  it.effect("a duplicate answers what the operation declares, also when two requests race", () =>
    Effect.gen(function*() {
      const again = yield* admin("POST", "/tenants/acme/agents", { agent_key: "front-desk", name: "Again" })
      expectAdminError(again, 400)
      expect(again.body.error).toContain("agent_key 'front-desk' already exists")

      const racing = yield* Effect.all(
        Array.from({ length: 6 }, (_, i) => admin("POST", "/tenants/acme/agents", { agent_key: "racer", name: `Racer ${i}` })),
        { concurrency: "unbounded" }
      )
      expect(racing.map((res) => res.status).sort()).toEqual([200, 400, 400, 400, 400, 400])
      for (const res of racing.filter((r) => r.status === 400)) expectSpecSchema(res.body, "AdminErrorResponse")

      expect((yield* tenantApi(token, "POST", "/voice-sessions", { stream_id: "MZdup" })).status).toBe(201)
      expectTenantError(yield* tenantApi(token, "POST", "/voice-sessions", { stream_id: "MZdup" }), 409)
    }))

  it.effect("a Twilio webhook for a number PostgreSQL cannot compare is an unknown number, not an outage", () =>
    Effect.gen(function*() {
      const res = yield* twilioWebhook("/api/v1/incoming-call", {
        CallSid: newCallSid(),
        AccountSid: accountSid("nobody"),
        From: "+15557654321",
        To: `+1555${NUL}`,
        Direction: "inbound",
        CallStatus: "ringing"
      })
      expect(res.status, res.text).toBe(200)
      expect(res.text).toContain(UNKNOWN_NUMBER_MESSAGE.replace("'", "&apos;"))
      expect(res.text).not.toContain(UNAVAILABLE_MESSAGE.replace("'", "&apos;"))
    }))
})
