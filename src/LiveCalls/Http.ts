import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { asAdminErrors, asApiErrors } from "../Http/ErrorMapping.js"
import { LiveCalls } from "./LiveCalls.js"
import type { LiveCallRow } from "./Repo.js"
import { AdminSessionInfo, AdminSessionsResponse, SessionInfo, SessionsListResponse } from "./Api.js"

const fields = (row: LiveCallRow) => ({
  stream_sid: row.stream_sid,
  started_at: row.started_at.toISOString(),
  call_type: row.direction,
  customer_phone: row.customer_phone,
  agent_name: row.agent_name,
  greeting: row.greeting,
  org_id: row.org_id,
  escalated: row.escalated,
  escalation_target: row.escalation_target
})

export const LiveSessionsHttp = HttpApiBuilder.group(Api, "liveSessions", (handlers) =>
  Effect.gen(function*() {
    const liveCalls = yield* LiveCalls
    return handlers.handle("list", () =>
      Effect.gen(function*() {
        const tenant = yield* CurrentTenant
        const calls = yield* liveCalls.list(tenant.tenantId)
        return new SessionsListResponse({
          ok: true,
          tenant: tenant.tenantId,
          sessions: calls.map((row) => new SessionInfo({ ...fields(row), org_id: row.org_id ?? tenant.orgId }))
        })
      }).pipe(asApiErrors))
  }))

export const AdminLiveSessionsHttp = HttpApiBuilder.group(Api, "adminLiveSessions", (handlers) =>
  Effect.gen(function*() {
    const liveCalls = yield* LiveCalls
    return handlers.handle("list", () =>
      Effect.map(liveCalls.list(null), (calls) =>
        new AdminSessionsResponse({
          ok: true,
          count: calls.length,
          sessions: calls.map((row) => new AdminSessionInfo({ ...fields(row), tenant: row.tenant_id }))
        })).pipe(asAdminErrors))
  }))
