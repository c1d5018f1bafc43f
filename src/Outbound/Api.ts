import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiMiddleware from "@effect/platform/HttpApiMiddleware"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import { Schema } from "effect"
import { bearerAuth, CurrentTenant, TenantAuth } from "../Auth/Middleware.js"
import { ApiError } from "../Http/Errors.js"
import { optionalNullable, Text } from "../Http/Schemas.js"

export class MakeCallRequest extends Schema.Class<MakeCallRequest>("MakeCallRequest")({
  agent_key: optionalNullable(Text.Id),
  agent_name: optionalNullable(Text.Name),
  agent_version_id: optionalNullable(Text.Id),
  from: optionalNullable(Text.Phone),
  greeting: optionalNullable(Text.Short),
  org_id: optionalNullable(Text.Id),
  to: Text.Phone
}) {}

export class MakeCallResponse extends Schema.Class<MakeCallResponse>("MakeCallResponse")({
  call_sid: optionalNullable(Schema.String),
  error: optionalNullable(Schema.String),
  from: optionalNullable(Schema.String),
  ok: Schema.Boolean,
  status: optionalNullable(Schema.String),
  to: optionalNullable(Schema.String)
}) {}

export class TranslationCallRequest extends Schema.Class<TranslationCallRequest>("TranslationCallRequest")({
  from: optionalNullable(Text.Phone),
  language_a: Schema.optional(Text.Id),
  language_b: Schema.optional(Text.Id),
  participant_a: Text.Phone,
  participant_b: Text.Phone
}) {}

export class TranslationCallResponse extends Schema.Class<TranslationCallResponse>("TranslationCallResponse")({
  error: optionalNullable(Schema.String),
  ok: Schema.Boolean,
  participant_a_call_sid: optionalNullable(Schema.String),
  participant_b_call_sid: optionalNullable(Schema.String),
  room_id: Schema.String
}) {}

// The spec answers these endpoints' errors in their own response shapes, not ErrorResponse.

const makeCallFields = { message: Schema.String, to: Schema.NullOr(Schema.String), from: Schema.NullOr(Schema.String) }
export class MakeCallRejected extends Schema.TaggedError<MakeCallRejected>()("MakeCallRejected", makeCallFields) {}
/** Documents the last-resort 500; handlers never fail with it. */
export class MakeCallServerError extends Schema.TaggedError<MakeCallServerError>()("MakeCallServerError", makeCallFields) {}
export class MakeCallUnavailable extends Schema.TaggedError<MakeCallUnavailable>()("MakeCallUnavailable", makeCallFields) {}
/** A cost/abuse limit (docs/limits.md): 403 for a refused destination, 429 for capacity, velocity, budget. */
export class MakeCallForbidden extends Schema.TaggedError<MakeCallForbidden>()("MakeCallForbidden", makeCallFields) {}
export class MakeCallLimited extends Schema.TaggedError<MakeCallLimited>()("MakeCallLimited", makeCallFields) {}
/** The Idempotency-Key was used with another body, or its first request is still dialling. */
export class MakeCallConflict extends Schema.TaggedError<MakeCallConflict>()("MakeCallConflict", makeCallFields) {}

interface ErrorClass<Tag extends string, Self, Fields> extends Schema.Schema<Self, Fields & { readonly _tag: Tag }> {
  readonly _tag: Tag
}

type MakeCallFields = { readonly message: string; readonly to: string | null; readonly from: string | null }

const makeCallError = <Tag extends string, Self>(error: ErrorClass<Tag, Self, MakeCallFields>, status: number) =>
  Schema.transform(MakeCallResponse, error, {
    strict: true,
    decode: (body) => ({ _tag: error._tag, message: body.error ?? "", to: body.to ?? null, from: body.from ?? null }),
    encode: (value) =>
      new MakeCallResponse({ ok: false, error: value.message, call_sid: null, status: null, to: value.to, from: value.from })
  }).annotations(HttpApiSchema.annotations({ status }))

const translationFields = {
  message: Schema.String,
  room_id: Schema.String,
  participant_a_call_sid: Schema.NullOr(Schema.String),
  participant_b_call_sid: Schema.NullOr(Schema.String)
}
type TranslationFields = {
  readonly message: string
  readonly room_id: string
  readonly participant_a_call_sid: string | null
  readonly participant_b_call_sid: string | null
}
export class TranslationCallUnauthorized
  extends Schema.TaggedError<TranslationCallUnauthorized>()("TranslationCallUnauthorized", translationFields)
{}
export class TranslationCallRejected extends Schema.TaggedError<TranslationCallRejected>()("TranslationCallRejected", translationFields) {}
export class TranslationCallUpstreamFailed
  extends Schema.TaggedError<TranslationCallUpstreamFailed>()("TranslationCallUpstreamFailed", translationFields)
{}
export class TranslationCallUnavailable
  extends Schema.TaggedError<TranslationCallUnavailable>()("TranslationCallUnavailable", translationFields)
{}
export class TranslationCallForbidden
  extends Schema.TaggedError<TranslationCallForbidden>()("TranslationCallForbidden", translationFields)
{}
export class TranslationCallLimited
  extends Schema.TaggedError<TranslationCallLimited>()("TranslationCallLimited", translationFields)
{}

const translationError = <Tag extends string, Self>(error: ErrorClass<Tag, Self, TranslationFields>, status: number) =>
  Schema.transform(TranslationCallResponse, error, {
    strict: true,
    decode: (body) => ({
      _tag: error._tag,
      message: body.error ?? "",
      room_id: body.room_id,
      participant_a_call_sid: body.participant_a_call_sid ?? null,
      participant_b_call_sid: body.participant_b_call_sid ?? null
    }),
    encode: (value) =>
      new TranslationCallResponse({
        ok: false,
        error: value.message,
        room_id: value.room_id,
        participant_a_call_sid: value.participant_a_call_sid,
        participant_b_call_sid: value.participant_b_call_sid
      })
  }).annotations(HttpApiSchema.annotations({ status }))

/** TenantAuth, answering an unauthenticated request in the endpoint's own shape (the spec's 401 body). */
export class TranslationCallAuth extends HttpApiMiddleware.Tag<TranslationCallAuth>()("TranslationCallAuth", {
  failure: Schema.Union(translationError(TranslationCallUnauthorized, 401), ApiError.RateLimited, ApiError.Unavailable),
  provides: CurrentTenant,
  security: { bearer_auth: bearerAuth }
}) {}

/** Outbound AI calls placed through Twilio's REST API. */
export class CallsApi extends HttpApiGroup.make("calls")
  .add(
    HttpApiEndpoint.post("makeCall", "/api/v1/make-call")
      .setPayload(MakeCallRequest)
      .addSuccess(MakeCallResponse)
      .addError(makeCallError(MakeCallRejected, 400))
      .addError(makeCallError(MakeCallUnavailable, 503))
      .addError(makeCallError(MakeCallForbidden, 403))
      .addError(makeCallError(MakeCallLimited, 429))
      .addError(makeCallError(MakeCallConflict, 409))
      .addError(makeCallError(MakeCallServerError, 500))
      .middleware(TenantAuth)
      .annotate(OpenApi.Identifier, "make_call")
  )
  .add(
    HttpApiEndpoint.post("startTranslationCall", "/api/v1/voice/translation-calls")
      .setPayload(TranslationCallRequest)
      .addSuccess(TranslationCallResponse)
      .addError(translationError(TranslationCallRejected, 400))
      .addError(translationError(TranslationCallUpstreamFailed, 502))
      .addError(translationError(TranslationCallUnavailable, 503))
      .addError(translationError(TranslationCallForbidden, 403))
      .addError(translationError(TranslationCallLimited, 429))
      .middleware(TranslationCallAuth)
      .annotate(OpenApi.Identifier, "start_translation_call")
  )
  .annotate(OpenApi.Title, "calls")
{}
