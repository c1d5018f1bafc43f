import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { asAdminErrors, asApiErrors } from "../Http/ErrorMapping.js"
import { CallbackTasks } from "./CallbackTasks.js"
import { AdminCallbackTasksResponse } from "./Schemas.js"
import { TaskTransitions } from "./Transitions.js"

const DEFAULT_LIMIT = 50

export const CallbackTasksHttp = HttpApiBuilder.group(Api, "callbackTasks", (handlers) =>
  Effect.gen(function*() {
    const tasks = yield* CallbackTasks
    const transitions = yield* TaskTransitions
    const tenant = Effect.map(CurrentTenant, (t) => t.tenantId)
    return handlers
      .handle("list", ({ urlParams: q }) =>
        Effect.flatMap(tenant, (tenantId) =>
          Effect.flatMap(tasks.now, (at) =>
            tasks.list({
              tenantId,
              status: q.status,
              disposition: q.disposition,
              streamSid: q.stream_sid,
              queueKey: q.queue_key,
              overdueAt: q.overdue_only === true ? at : undefined,
              limit: q.limit ?? DEFAULT_LIMIT,
              offset: q.offset ?? 0
            }))).pipe(asApiErrors))
      .handle("create", ({ payload }) => Effect.flatMap(tenant, (id) => tasks.create(id, payload)).pipe(asApiErrors))
      .handle("get", ({ path }) => Effect.flatMap(tenant, (id) => tasks.get(id, path.id)).pipe(asApiErrors))
      .handle("update", ({ path, payload }) => Effect.flatMap(tenant, (id) => tasks.update(id, path.id, payload)).pipe(asApiErrors))
      .handle("acknowledge", ({ path, payload }) =>
        Effect.flatMap(tenant, (id) => transitions.acknowledge(id, path.id, payload)).pipe(asApiErrors))
      .handle("assign", ({ path, payload }) => Effect.flatMap(tenant, (id) => transitions.assign(id, path.id, payload)).pipe(asApiErrors))
      .handle("claim", ({ path, payload }) => Effect.flatMap(tenant, (id) => transitions.claim(id, path.id, payload)).pipe(asApiErrors))
      .handle("release", ({ path, payload }) =>
        Effect.flatMap(tenant, (id) => transitions.release(id, path.id, payload)).pipe(asApiErrors))
      .handle("snooze", ({ path, payload }) => Effect.flatMap(tenant, (id) => transitions.snooze(id, path.id, payload)).pipe(asApiErrors))
      .handle("unsnooze", ({ path, payload }) =>
        Effect.flatMap(tenant, (id) => transitions.unsnooze(id, path.id, payload)).pipe(asApiErrors))
  }))

export const AdminCallbackTasksHttp = HttpApiBuilder.group(Api, "adminCallbackTasks", (handlers) =>
  Effect.gen(function*() {
    const tasks = yield* CallbackTasks
    return handlers.handle("list", ({ urlParams: q }) =>
      tasks.listAdmin({
        tenantId: q.tenant_id,
        status: q.status,
        disposition: q.disposition,
        streamSid: q.stream_sid,
        limit: q.limit ?? DEFAULT_LIMIT,
        offset: q.offset ?? 0
      }).pipe(
        Effect.map(({ count, tasks }) => new AdminCallbackTasksResponse({ ok: true, count, tasks })),
        asAdminErrors
      ))
  }))
