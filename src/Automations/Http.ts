import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect, Schema } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { ApiUnavailable } from "../Http/Errors.js"
import { VoiceSessionEval } from "../VoiceEvals/Api.js"
import { VoiceSessionEvals } from "../VoiceEvals/VoiceSessionEvals.js"
import { AutomationFailed, AutomationResponse } from "./Api.js"

/**
 * Automation failures (bad input, unknown session or evaluation) answer 400 in the
 * `AutomationResponse` envelope; an outage stays a 503 `ErrorResponse`.
 */
const asAutomationErrors = <A, R>(
  self: Effect.Effect<A, { readonly status: 400 | 404 | 503; readonly message: string }, R>
) =>
  Effect.catchAll(self, (error): Effect.Effect<never, AutomationFailed | ApiUnavailable> =>
    error.status === 503
      ? Effect.fail(new ApiUnavailable({ message: error.message }))
      : Effect.fail(new AutomationFailed({ message: error.message })))

/** The evaluation as JSON (`result` is free-form, so it is encoded here). */
const succeeded = (evaluation: VoiceSessionEval) =>
  Effect.map(Schema.encode(VoiceSessionEval)(evaluation), (result) => new AutomationResponse({ ok: true, error: null, result }))

export const VoiceEvalAutomationsHttp = HttpApiBuilder.group(Api, "voiceEvalAutomations", (handlers) =>
  Effect.gen(function*() {
    const evals = yield* VoiceSessionEvals
    return handlers
      .handle("record", ({ payload }) =>
        Effect.flatMap(CurrentTenant, ({ tenantId }) => evals.record(tenantId, payload)).pipe(
          Effect.flatMap((evaluation) => Effect.orDie(succeeded(evaluation))),
          asAutomationErrors
        ))
      .handle("get", ({ payload }) =>
        Effect.flatMap(CurrentTenant, ({ tenantId }) => evals.get(tenantId, payload)).pipe(
          Effect.flatMap((evaluation) => Effect.orDie(succeeded(evaluation))),
          asAutomationErrors
        ))
  }))
