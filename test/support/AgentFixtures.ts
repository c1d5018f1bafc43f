import { expect } from "@effect/vitest"
import { Effect } from "effect"
import { adminHeaders, request } from "./TestServer.js"

/** Creates tenant `tenantId` with a legacy bearer token; returns the token. */
export const createTenant = (tenantId: string) =>
  Effect.gen(function*() {
    const token = `token-${tenantId}-0123456789abcdef`
    const res = yield* request("PUT", `/api/v1/admin/tenants/${tenantId}`, {
      headers: adminHeaders,
      json: { tenant_id: tenantId, org_id: `org-${tenantId}`, auth_token: token }
    })
    expect(res.status).toBe(200)
    return token
  })

export const admin = (method: "GET" | "POST" | "PUT" | "DELETE", path: string, json?: unknown) =>
  request(method, `/api/v1/admin${path}`, { headers: adminHeaders, ...(json === undefined ? {} : { json }) })

export const createAgent = (tenantId: string, agentKey: string, name = `Agent ${agentKey}`) =>
  Effect.gen(function*() {
    const res = yield* admin("POST", `/tenants/${tenantId}/agents`, { agent_key: agentKey, name })
    expect(res.status, res.text).toBe(200)
    return res.body.agent as { id: string; agent_key: string; name: string }
  })

export const createVersion = (tenantId: string, agentId: string, config: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    const res = yield* admin("POST", `/tenants/${tenantId}/agent-versions`, { agent_id: agentId, config })
    expect(res.status, res.text).toBe(200)
    return res.body.version as { id: string; version_number: number; status: string }
  })

export const publish = (tenantId: string, versionId: string) =>
  Effect.gen(function*() {
    const res = yield* admin("POST", `/tenants/${tenantId}/agent-versions/${versionId}/publish`)
    expect(res.status, res.text).toBe(200)
    return res.body.version as { id: string; status: string; published_at: string }
  })

export const setRollout = (
  tenantId: string,
  agentId: string,
  entries: ReadonlyArray<{ agent_version_id: string; traffic_percentage: number }>
) =>
  Effect.gen(function*() {
    const res = yield* admin("PUT", `/tenants/${tenantId}/agents/${agentId}/rollouts`, { entries })
    expect(res.status, res.text).toBe(200)
    return res.body
  })
