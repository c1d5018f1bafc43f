import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { ApiUnavailable } from "../Http/Errors.js"
import type { TransferFailed } from "../Transfers/Errors.js"
import { AutomationFailed, AutomationResponse } from "./Api.js"
import { EscalationAutomations } from "./Escalation.js"

/** 400 in the AutomationResponse envelope; Twilio or the database failing is a 503 ErrorResponse. */
const asAutomationError = (error: TransferFailed) =>
  error.status === 503 ? new ApiUnavailable({ message: error.message }) : new AutomationFailed({ message: error.message })

export const EscalationAutomationsHttp = HttpApiBuilder.group(Api, "escalationAutomations", (handlers) =>
  Effect.gen(function*() {
    const automations = yield* EscalationAutomations
    const run = (payload: Parameters<typeof automations.run>[2], mode: "cold" | "warm") =>
      Effect.flatMap(CurrentTenant, (tenant) => automations.run(tenant.tenantId, tenant.config, payload, mode)).pipe(
        Effect.map((result) => new AutomationResponse({ ok: true, error: null, result })),
        Effect.mapError(asAutomationError)
      )
    return handlers
      .handle("escalateCall", ({ payload }) => run(payload, "cold"))
      .handle("escalateCallWithBridge", ({ payload }) => run(payload, "warm"))
  }))
