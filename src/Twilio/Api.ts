import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as HttpApiSecurity from "@effect/platform/HttpApiSecurity"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { TenantAuth } from "../Auth/Middleware.js"

/** Twilio's webhook errors are plain text (the spec's `text/plain` 400/401/5xx). */
export class WebhookBadRequest extends Schema.TaggedError<WebhookBadRequest>()("WebhookBadRequest", {
  message: Schema.String
}) {}
export class WebhookUnauthorized extends Schema.TaggedError<WebhookUnauthorized>()("WebhookUnauthorized", {
  message: Schema.String
}) {}
export class WebhookServerError extends Schema.TaggedError<WebhookServerError>()("WebhookServerError", {
  message: Schema.String
}) {}
export class WebhookUnavailable extends Schema.TaggedError<WebhookUnavailable>()("WebhookUnavailable", {
  message: Schema.String
}) {}

interface TextErrorClass<Tag extends string, Self> extends Schema.Schema<Self, { readonly _tag: Tag; readonly message: string }> {
  readonly _tag: Tag
}

const textError = <Tag extends string, Self extends { readonly message: string }>(
  error: TextErrorClass<Tag, Self>,
  status: number
) =>
  Schema.transform(Schema.String, error, {
    strict: true,
    decode: (text) => ({ _tag: error._tag, message: text }),
    encode: (value) => value.message
  }).pipe(HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/plain" })).annotations(
    HttpApiSchema.annotations({ status })
  )

export const WebhookError = {
  BadRequest: textError(WebhookBadRequest, 400),
  Unauthorized: textError(WebhookUnauthorized, 401),
  Unavailable: textError(WebhookUnavailable, 503),
  /** Documents the last-resort 500; handlers never fail with it. */
  ServerError: textError(WebhookServerError, 500)
} as const

/** The documented signature header; the handlers check it themselves once they know the tenant. */
export class TwilioSignatureProbe extends HttpApiMiddleware.Tag<TwilioSignatureProbe>()("TwilioSignatureProbe", {
  optional: true,
  security: {
    twilio_signature: HttpApiSecurity.apiKey({ key: "X-Twilio-Signature", in: "header" }).pipe(
      HttpApiSecurity.annotate(OpenApi.Description, "Twilio webhook signature used to verify callback authenticity.")
    )
  }
}) {}

const field = (description: string) => Schema.optional(Schema.String).annotations({ description })

/** The form Twilio posts to voice webhooks; every parameter is kept (the signature covers all of them). */
export const TwilioVoiceWebhookForm = Schema.Struct(
  {
    CallSid: field("Twilio call SID"),
    AccountSid: field("Twilio account that owns the call"),
    From: field("Caller"),
    To: field("Called number"),
    Direction: field("inbound, outbound-api or outbound-dial"),
    CallStatus: field("queued, ringing, in-progress, completed, busy, no-answer, failed or canceled"),
    CallDuration: field("Call length in seconds (status callbacks)"),
    AnsweredBy: field("Answering machine detection result"),
    RecordingUrl: field("Recording of the call, when recorded")
  },
  Schema.Record({ key: Schema.String, value: Schema.String })
).pipe(HttpApiSchema.withEncoding({ kind: "UrlParams" })).annotations({
  identifier: "TwilioVoiceWebhookForm",
  description: "Twilio voice webhook parameters (application/x-www-form-urlencoded)"
})

/**
 * Query parameters of the webhook URLs this service builds itself (make-call) or a tenant
 * configures (`?tenant=`). Twilio signs them with the rest of the URL. Read by the
 * handlers, not declared on the endpoints: the spec gives these operations no parameters.
 */
export const WebhookQuery = Schema.Struct({
  tenant: Schema.optional(Schema.String).annotations({
    description: "Explicit tenant id; the signature is then checked with that tenant's Twilio auth token"
  }),
  agent_version_id: Schema.optional(Schema.String).annotations({ description: "Agent version to pin" }),
  agent_id: Schema.optional(Schema.String).annotations({ description: "Agent to resolve a version from" }),
  greeting: Schema.optional(Schema.String).annotations({ description: "Greeting override for this call" }),
  agent_name: Schema.optional(Schema.String).annotations({ description: "Agent name override for this call" }),
  translation_room: Schema.optional(Schema.String).annotations({ description: "Translation room this leg joins" }),
  language: Schema.optional(Schema.String).annotations({ description: "Language spoken on this leg" }),
  peer_language: Schema.optional(Schema.String).annotations({ description: "Language of the other leg" })
})

export class CallStatusAckResponse extends Schema.Class<CallStatusAckResponse>("CallStatusAckResponse")({
  ok: Schema.Boolean
}) {}

const Twiml = HttpApiSchema.Text({ contentType: "text/xml" })

/** Twilio's voice webhooks (signed with the tenant's Twilio auth token). */
export class CallWebhooksApi extends HttpApiGroup.make("callWebhooks")
  .add(
    HttpApiEndpoint.post("incomingCall", "/api/v1/incoming-call")
      .setPayload(TwilioVoiceWebhookForm)
      .addSuccess(Twiml)
      .addError(WebhookError.ServerError)
      .annotate(OpenApi.Identifier, "incoming_call")
  )
  .add(
    HttpApiEndpoint.post("outboundCall", "/api/v1/outbound-call")
      .setPayload(TwilioVoiceWebhookForm)
      .addSuccess(Twiml)
      .addError(WebhookError.ServerError)
      .annotate(OpenApi.Identifier, "outbound_call")
  )
  .add(
    HttpApiEndpoint.post("callStatus", "/api/v1/call-status")
      .setPayload(TwilioVoiceWebhookForm)
      .addSuccess(CallStatusAckResponse)
      .annotate(OpenApi.Identifier, "call_status")
  )
  .addError(WebhookError.BadRequest)
  .addError(WebhookError.Unauthorized)
  .addError(WebhookError.Unavailable)
  .middleware(TwilioSignatureProbe)
  .annotate(OpenApi.Title, "calls")
{}

/** The same call setup for SIP trunks, authenticated with the tenant's bearer credential. */
export class CallWebhooksSipApi extends HttpApiGroup.make("callWebhooksSip")
  .add(
    HttpApiEndpoint.post("incomingCallSip", "/api/v1/incoming-call-sip")
      .setPayload(TwilioVoiceWebhookForm)
      .addSuccess(Twiml)
      .addError(WebhookError.ServerError)
      .annotate(OpenApi.Identifier, "incoming_call")
  )
  .add(
    HttpApiEndpoint.post("outboundCallSip", "/api/v1/outbound-call-sip")
      .setPayload(TwilioVoiceWebhookForm)
      .addSuccess(Twiml)
      .addError(WebhookError.ServerError)
      .annotate(OpenApi.Identifier, "outbound_call")
  )
  .addError(WebhookError.BadRequest)
  .addError(WebhookError.Unavailable)
  .middleware(TenantAuth)
  .annotate(OpenApi.Title, "calls")
{}
