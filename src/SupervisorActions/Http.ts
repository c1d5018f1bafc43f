import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { asAdminErrors, asApiErrors } from "../Http/ErrorMapping.js"
import { AdminSupervisorActionsResponse } from "./Schemas.js"
import { SupervisorActions } from "./SupervisorActions.js"

const DEFAULT_LIMIT = 50

export const SupervisorActionsHttp = HttpApiBuilder.group(Api, "supervisorActions", (handlers) =>
  Effect.gen(function*() {
    const actions = yield* SupervisorActions
    return handlers.handle("list", ({ urlParams: q }) =>
      Effect.flatMap(CurrentTenant, (tenant) =>
        actions.list({ tenantId: tenant.tenantId, streamSid: q.stream_sid, action: q.action, limit: q.limit ?? DEFAULT_LIMIT, offset: q.offset ?? 0 })).pipe(
          asApiErrors
        ))
  }))

export const AdminSupervisorActionsHttp = HttpApiBuilder.group(Api, "adminSupervisorActions", (handlers) =>
  Effect.gen(function*() {
    const actions = yield* SupervisorActions
    return handlers.handle("list", ({ urlParams: q }) =>
      actions.listWithCount({ tenantId: q.tenant_id, streamSid: q.stream_sid, action: q.action, limit: q.limit ?? DEFAULT_LIMIT, offset: q.offset ?? 0 }).pipe(
        Effect.map(({ actions, count }) => new AdminSupervisorActionsResponse({ ok: true, count, actions })),
        asAdminErrors
      ))
  }))
