import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import { Effect } from "effect"
import { Api } from "../Api.js"
import { CurrentTenant } from "../Auth/Middleware.js"
import { ApiRateLimited, ApiUnavailable } from "../Http/Errors.js"
import type { SmsKind } from "../Tenants/ToolSettings.js"
import { AutomationFailed, AutomationResponse } from "./Api.js"
import { type AutomationInput, Automations, type AutomationTenant } from "./Automations.js"
import type { AutomationError } from "./Errors.js"

/** Bad input answers in the spec's `AutomationResponse` envelope; limits and outages in `ErrorResponse`. */
const answered = <A>(self: Effect.Effect<A, AutomationError>) =>
  self.pipe(
    Effect.map((result) => new AutomationResponse({ ok: true, error: null, result })),
    Effect.catchAll((error): Effect.Effect<never, AutomationFailed | ApiRateLimited | ApiUnavailable> =>
      error._tag === "AutomationUnavailable"
        ? Effect.fail(new ApiUnavailable({ message: error.message }))
        : error._tag === "AutomationLimited"
        ? Effect.fail(new ApiRateLimited({ message: error.message }))
        : Effect.fail(new AutomationFailed({ message: error.message })))
  )

export const WorkflowAutomationsHttp = HttpApiBuilder.group(Api, "workflowAutomations", (handlers) =>
  Effect.gen(function*() {
    const automations = yield* Automations
    const run = <A>(work: (tenant: AutomationTenant) => Effect.Effect<A, AutomationError>) =>
      Effect.flatMap(CurrentTenant, (tenant) => answered(work({ tenantId: tenant.tenantId, config: tenant.config })))
    const sms = (kind: SmsKind) => ({ payload }: { readonly payload: AutomationInput }) =>
      run((tenant) => automations.sms(tenant, kind, payload))
    return handlers
      .handle("smsTracking", sms("tracking"))
      .handle("smsIssueIntake", sms("issue_intake"))
      .handle("smsPhoneOrder", sms("phone_order"))
      .handle("smsPostCallSurvey", sms("post_call_survey"))
      .handle("smsTroubleshooting", sms("troubleshooting"))
      .handle("loopFollowupEmail", ({ payload }) => run((tenant) => automations.email(tenant, payload)))
      .handle("businessHours", ({ payload }) => run((tenant) => automations.businessHours(tenant, payload)))
      .handle("escalationNeed", ({ payload }) => run((tenant) => automations.escalationNeed(tenant, payload)))
  }))
