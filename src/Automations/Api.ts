import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { TenantAuth } from "../Auth/Middleware.js"
import { ApiError } from "../Http/Errors.js"
import { AnyJson, JsonDocument, optionalNullable, Text } from "../Http/Schemas.js"

/** The spec's common automation payload; functions read further keys (kept, not dropped). */
export const AutomationPayload = Schema.Struct(
  {
    call_sid: optionalNullable(Text.Id).annotations({ description: "Twilio call SID" }),
    customer_phone: optionalNullable(Text.Phone).annotations({ description: "Customer phone number in E.164 format" }),
    metadata: Schema.optional(JsonDocument(65_536)).annotations({ description: "Optional workflow-specific metadata" }),
    reason: optionalNullable(Text.Short).annotations({ description: "Human-readable workflow reason or note" }),
    session_id: optionalNullable(Text.Id).annotations({
      description: "Voice session identifier when the automation is tied to a persisted session"
    }),
    to: optionalNullable(Text.Phone).annotations({ description: "Destination phone number or escalation target" })
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
).annotations({
  identifier: "AutomationPayload",
  description:
    "Automation payload passed to a tenant's registered workflow function. Common fields are documented here; individual tenant functions may accept additional keys."
})

export class AutomationResponse extends Schema.Class<AutomationResponse>("AutomationResponse")({
  error: optionalNullable(Schema.String),
  ok: Schema.Boolean,
  result: Schema.optional(AnyJson)
}) {}

export class AutomationFailed extends Schema.TaggedError<AutomationFailed>()("AutomationFailed", { message: Schema.String }) {}

const automationEnvelope = <Tag extends string, Self extends { readonly message: string }>(
  error: Schema.Schema<Self, { readonly _tag: Tag; readonly message: string }> & { readonly _tag: Tag },
  status: number
) =>
  Schema.transform(AutomationResponse, error, {
    strict: true,
    decode: (body) => ({ _tag: error._tag, message: body.error ?? "" }),
    encode: (value) => new AutomationResponse({ ok: false, error: value.message })
  }).annotations(HttpApiSchema.annotations({ status }))

/**
 * Automation failures in the spec's `AutomationResponse` envelope ({ ok: false, error }). The
 * spec gives these operations one failure status, 400, so an unknown session is one too.
 */
export const AutomationError = {
  Failed: automationEnvelope(AutomationFailed, 400)
} as const

/** An automation endpoint: the common payload in, an `AutomationResponse` out. */
const workflow = <const Name extends string>(name: Name, path: `/${string}`, identifier: string, summary: string) =>
  HttpApiEndpoint.post(name, path)
    .setPayload(AutomationPayload)
    .addSuccess(AutomationResponse)
    .annotate(OpenApi.Identifier, identifier)
    .annotate(OpenApi.Summary, summary)

/** Record and read a session's quality evaluation, as automation functions (tenant bearer). */
export class VoiceEvalAutomationsApi extends HttpApiGroup.make("voiceEvalAutomations")
  .add(workflow("record", "/api/v1/automations/voice/evaluation", "record_voice_session_eval", "Record a voice session evaluation"))
  .add(workflow("get", "/api/v1/automations/voice/get-eval", "get_voice_session_eval", "Retrieve a voice session evaluation"))
  .addError(AutomationError.Failed)
  .addError(ApiError.Unavailable)
  .addError(ApiError.ServerError)
  .middleware(TenantAuth)
  .annotate(OpenApi.Title, "automation")
{}

/** Transfers of live calls to people, as automations (tenant bearer): cold, or warm ("with bridge"). */
export class EscalationAutomationsApi extends HttpApiGroup.make("escalationAutomations")
  .add(workflow("escalateCall", "/api/v1/automations/escalate-call", "escalate_call", "Escalate a call to a human agent"))
  .add(workflow("escalateCallWithBridge", "/api/v1/automations/escalate-call-with-bridge", "escalate_call_with_bridge", "Escalate a call using Twilio call bridge"))
  .addError(AutomationError.Failed)
  .addError(ApiError.Unavailable)
  .addError(ApiError.ServerError)
  .middleware(TenantAuth)
  .annotate(OpenApi.Title, "automation")
{}

/**
 * Texts, the follow-up email, business hours and escalation need (tenant bearer). A bad input
 * is a 400 `AutomationResponse`; an unconfigured or failing provider a 503, a spent text
 * allowance a 429 (both `ErrorResponse`).
 */
export class WorkflowAutomationsApi extends HttpApiGroup.make("workflowAutomations")
  .add(workflow("smsTracking", "/api/v1/automations/sms/tracking", "send_tracking_sms", "Send a tracking SMS to the customer"))
  .add(workflow("smsIssueIntake", "/api/v1/automations/sms/issue-intake", "send_issue_intake_sms", "Send an issue intake SMS"))
  .add(workflow("smsPhoneOrder", "/api/v1/automations/sms/phone-order", "send_phone_order_sms", "Send a phone order confirmation SMS"))
  .add(workflow("smsPostCallSurvey", "/api/v1/automations/sms/post-call-survey", "send_post_call_survey_sms", "Send a post-call survey SMS"))
  .add(workflow("smsTroubleshooting", "/api/v1/automations/sms/troubleshooting", "send_troubleshooting_sms", "Send a troubleshooting SMS to the customer"))
  .add(workflow("loopFollowupEmail", "/api/v1/automations/email/loop-followup", "send_loop_followup_email", "Send a Loop followup email"))
  .add(workflow("businessHours", "/api/v1/automations/voice/business-hours", "check_business_hours", "Check if current time is within business hours"))
  .add(workflow("escalationNeed", "/api/v1/automations/voice/escalation-need", "evaluate_escalation_need", "Evaluate whether a call needs escalation"))
  .addError(AutomationError.Failed)
  .addError(ApiError.RateLimited)
  .addError(ApiError.Unavailable)
  .addError(ApiError.ServerError)
  .middleware(TenantAuth)
  .annotate(OpenApi.Title, "automation")
{}
