import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { CurrentAdmin } from "../Auth/Middleware.js"
import { asAdminErrors } from "../Http/ErrorMapping.js"
import { StartTestCallResponse } from "./Api.js"
import { TestCalls } from "./TestCalls.js"

export const ConsoleHttp = HttpApiBuilder.group(Api, "console", (handlers) =>
  Effect.gen(function*() {
    const testCalls = yield* TestCalls
    return handlers.handle("startTestCall", ({ path, payload }) =>
      Effect.gen(function*() {
        const admin = yield* CurrentAdmin
        const call = yield* testCalls.start(path.tenant_id, payload.agent_version_id, admin.actor)
        return new StartTestCallResponse({
          ok: true,
          stream_url: call.streamUrl,
          stream_token: call.token,
          stream_sid: call.streamSid,
          call_sid: call.callSid,
          expires_in_seconds: call.expiresInSeconds
        })
      }).pipe(asAdminErrors))
  })
)
