import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { asSessionActionErrors } from "./Errors.js"
import { SessionActionResponse } from "./Schemas.js"
import { SessionActions } from "./SessionActions.js"

export const SessionActionsHttp = HttpApiBuilder.group(Api, "sessionActions", (handlers) =>
  Effect.gen(function*() {
    const actions = yield* SessionActions
    return handlers.handle("perform", ({ path, payload }) =>
      Effect.flatMap(CurrentTenant, (tenant) => actions.perform(tenant, path.stream_sid, path.action, payload)).pipe(
        Effect.map((message) => new SessionActionResponse({ ok: true, message })),
        asSessionActionErrors
      ))
  }))
