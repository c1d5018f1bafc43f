import { HttpApiBuilder } from "@effect/platform"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { type LiveCall, LiveCalls } from "./LiveCalls.js"
import { AdminSessionInfo, AdminSessionsResponse, SessionInfo, SessionsListResponse } from "./Api.js"

const fields = (call: LiveCall, orgId: string | null) => ({
  stream_sid: call.streamSid,
  started_at: call.startedAt.toISOString(),
  call_type: call.callType ?? null,
  customer_phone: call.customerPhone ?? null,
  agent_name: call.agentName ?? null,
  greeting: call.greeting ?? null,
  org_id: call.orgId ?? orgId,
  escalated: call.escalated ?? false,
  escalation_target: call.escalationTarget ?? null
})

const oldestFirst = (a: LiveCall, b: LiveCall) => a.startedAt.getTime() - b.startedAt.getTime()

export const LiveSessionsHttp = HttpApiBuilder.group(Api, "liveSessions", (handlers) =>
  Effect.gen(function*() {
    const liveCalls = yield* LiveCalls
    return handlers.handle("list", () =>
      Effect.gen(function*() {
        const tenant = yield* CurrentTenant
        const calls = (yield* liveCalls.list).filter((call) => call.tenantId === tenant.tenantId).sort(oldestFirst)
        return new SessionsListResponse({
          ok: true,
          tenant: tenant.tenantId,
          sessions: calls.map((call) => new SessionInfo(fields(call, tenant.orgId)))
        })
      }))
  }))

export const AdminLiveSessionsHttp = HttpApiBuilder.group(Api, "adminLiveSessions", (handlers) =>
  Effect.gen(function*() {
    const liveCalls = yield* LiveCalls
    return handlers.handle("list", () =>
      Effect.map(liveCalls.list, (calls) =>
        new AdminSessionsResponse({
          ok: true,
          count: calls.length,
          sessions: [...calls].sort(oldestFirst).map((call) =>
            new AdminSessionInfo({ ...fields(call, null), tenant: call.tenantId })
          )
        })))
  }))
