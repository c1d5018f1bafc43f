import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { asAdminErrors } from "../Http/ErrorMapping.js"
import { PhoneNumberRoutes } from "./PhoneNumberRoutes.js"
import { AdminPhoneNumberRouteResponse, AdminPhoneNumberRoutesResponse } from "./Api.js"

export const PhoneNumberRoutesHttp = HttpApiBuilder.group(Api, "phoneNumberRoutes", (handlers) =>
  Effect.gen(function*() {
    const routes = yield* PhoneNumberRoutes
    return handlers
      .handle("list", ({ path }) =>
        routes.list(path.tenant_id).pipe(
          Effect.map((list) => new AdminPhoneNumberRoutesResponse({ ok: true, count: list.length, routes: list })),
          asAdminErrors
        ))
      .handle("upsert", ({ path, payload }) =>
        routes.upsert(path.tenant_id, payload).pipe(
          Effect.map((route) => new AdminPhoneNumberRouteResponse({ ok: true, route })),
          asAdminErrors
        ))
      .handle("delete", ({ path }) =>
        routes.remove(path.tenant_id, path.route_id).pipe(
          Effect.map((route) => new AdminPhoneNumberRouteResponse({ ok: true, route })),
          asAdminErrors
        ))
  }))
