import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { asAccessErrors, asAdminErrors } from "../Http/ErrorMapping.js"
import { clientAddress } from "../Http/ClientAddress.js"
import { AccessRequests } from "./AccessRequests.js"
import { AdminApiAccessRequestsResponse, ApiAccessRequestSubmitResponse } from "./Api.js"

export const AccessHttp = HttpApiBuilder.group(Api, "access", (handlers) =>
  Effect.gen(function*() {
    const accessRequests = yield* AccessRequests
    return handlers.handle("submit", ({ payload, request }) =>
      accessRequests.submit({
        input: payload,
        remoteAddress: clientAddress(request),
        userAgent: request.headers["user-agent"] ?? null
      }).pipe(
        Effect.map((id) =>
          new ApiAccessRequestSubmitResponse({
            ok: true,
            request_id: id,
            message: "Request received. The StateSet team will review it and follow up with provisioning details."
          })
        ),
        asAccessErrors
      ))
  }))

export const AccessAdminHttp = HttpApiBuilder.group(Api, "accessAdmin", (handlers) =>
  Effect.gen(function*() {
    const accessRequests = yield* AccessRequests
    return handlers.handle("list", ({ urlParams }) =>
      accessRequests.list(urlParams.status ?? null, urlParams.limit ?? 50, urlParams.offset ?? 0).pipe(
        Effect.map(({ count, requests }) => new AdminApiAccessRequestsResponse({ ok: true, count, requests })),
        asAdminErrors
      ))
  }))
