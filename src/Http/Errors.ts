import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Effect, FiberRef, Schema } from "effect"
import { CurrentRequest } from "./RequestContext.js"
import { AnyJson } from "./Schemas.js"

/**
 * The spec's three error envelopes and the wire errors that encode to them. Every
 * error body the service writes is shaped here, whether it comes from a declared
 * endpoint error or from the edge (bad JSON, unknown route, defects).
 */

export const AdminErrorResponse = Schema.Struct({ ok: Schema.Boolean, error: Schema.String }).annotations({
  identifier: "AdminErrorResponse"
})

export const ErrorResponse = Schema.Struct({
  success: Schema.Boolean,
  error: Schema.String,
  code: Schema.String,
  details: Schema.optional(AnyJson),
  request_id: Schema.optional(Schema.NullOr(Schema.String))
}).annotations({ identifier: "ErrorResponse", description: "Standard error envelope returned by tenant-facing API errors" })

export const ApiAccessRequestErrorResponse = Schema.Struct({ error: Schema.String, ok: Schema.Boolean }).annotations({
  identifier: "ApiAccessRequestErrorResponse"
})

/** `session`: the session actions answer errors as `SessionActionResponse` (`{ ok: false, message }`). */
export type Audience = "admin" | "tenant" | "access" | "session"

const codeByStatus: Record<number, string> = {
  400: "VALIDATION_ERROR",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  408: "REQUEST_TIMEOUT",
  409: "CONFLICT",
  412: "PRECONDITION_FAILED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "RATE_LIMITED",
  502: "UPSTREAM_ERROR",
  503: "SERVICE_UNAVAILABLE"
}

export const errorCode = (status: number): string => codeByStatus[status] ?? "INTERNAL_ERROR"

export const tenantErrorBody = (status: number, message: string, details?: unknown) =>
  Effect.map(FiberRef.get(CurrentRequest), (request) => ({
    success: false,
    error: message,
    code: errorCode(status),
    ...(details === undefined ? {} : { details }),
    request_id: request?.requestId ?? null
  }))

/** The body for an error of `status` addressed to `audience`. */
export const errorBody = (
  audience: Audience,
  status: number,
  message: string,
  details?: unknown
): Effect.Effect<Record<string, unknown>> =>
  audience === "tenant"
    ? tenantErrorBody(status, message, details)
    : audience === "session"
    ? Effect.succeed({ ok: false, message })
    : Effect.succeed({ ok: false, error: message })

interface WireErrorClass<Tag extends string, Self> extends Schema.Schema<Self, { readonly _tag: Tag; readonly message: string }> {
  readonly _tag: Tag
}

const simpleEnvelope = <Tag extends string, Self extends { readonly message: string }>(
  envelope: typeof AdminErrorResponse | typeof ApiAccessRequestErrorResponse,
  error: WireErrorClass<Tag, Self>,
  status: number
) =>
  Schema.transform(envelope, error, {
    strict: true,
    decode: (body) => ({ _tag: error._tag, message: body.error }),
    encode: (value) => ({ ok: false, error: value.message })
  }).annotations(HttpApiSchema.annotations({ status }))

// --- admin ---------------------------------------------------------------------------------

export class AdminBadRequest extends Schema.TaggedError<AdminBadRequest>()("AdminBadRequest", { message: Schema.String }) {}
export class AdminUnauthorized extends Schema.TaggedError<AdminUnauthorized>()("AdminUnauthorized", { message: Schema.String }) {}
export class AdminNotFound extends Schema.TaggedError<AdminNotFound>()("AdminNotFound", { message: Schema.String }) {}
export class AdminConflict extends Schema.TaggedError<AdminConflict>()("AdminConflict", { message: Schema.String }) {}
export class AdminPreconditionFailed extends Schema.TaggedError<AdminPreconditionFailed>()("AdminPreconditionFailed", { message: Schema.String }) {}
export class AdminRateLimited extends Schema.TaggedError<AdminRateLimited>()("AdminRateLimited", { message: Schema.String }) {}
export class AdminUnavailable extends Schema.TaggedError<AdminUnavailable>()("AdminUnavailable", { message: Schema.String }) {}
/** Documents the last-resort 500 the edge writes for a defect; domain code never fails with it. */
export class AdminServerError extends Schema.TaggedError<AdminServerError>()("AdminServerError", { message: Schema.String }) {}

/** Admin wire errors for `.addError(...)`, encoded as `AdminErrorResponse`. */
export const AdminError = {
  BadRequest: simpleEnvelope(AdminErrorResponse, AdminBadRequest, 400),
  Unauthorized: simpleEnvelope(AdminErrorResponse, AdminUnauthorized, 401),
  NotFound: simpleEnvelope(AdminErrorResponse, AdminNotFound, 404),
  Conflict: simpleEnvelope(AdminErrorResponse, AdminConflict, 409),
  PreconditionFailed: simpleEnvelope(AdminErrorResponse, AdminPreconditionFailed, 412),
  RateLimited: simpleEnvelope(AdminErrorResponse, AdminRateLimited, 429),
  Unavailable: simpleEnvelope(AdminErrorResponse, AdminUnavailable, 503),
  ServerError: simpleEnvelope(AdminErrorResponse, AdminServerError, 500)
} as const

// --- access requests ------------------------------------------------------------------------

export class AccessRequestInvalid extends Schema.TaggedError<AccessRequestInvalid>()("AccessRequestInvalid", { message: Schema.String }) {}
export class AccessRequestUnavailable extends Schema.TaggedError<AccessRequestUnavailable>()("AccessRequestUnavailable", { message: Schema.String }) {}

export const AccessRequestError = {
  Invalid: simpleEnvelope(ApiAccessRequestErrorResponse, AccessRequestInvalid, 400),
  Unavailable: simpleEnvelope(ApiAccessRequestErrorResponse, AccessRequestUnavailable, 503)
} as const

// --- tenant-facing ------------------------------------------------------------------------

const tenantFields = { message: Schema.String, details: Schema.optional(AnyJson) }

interface TenantErrorClass<Tag extends string, Self>
  extends Schema.Schema<Self, { readonly _tag: Tag; readonly message: string; readonly details?: unknown }>
{
  readonly _tag: Tag
}

const tenantEnvelope = <Tag extends string, Self extends { readonly message: string; readonly details?: unknown }>(
  error: TenantErrorClass<Tag, Self>,
  status: number
) =>
  Schema.transformOrFail(ErrorResponse, error, {
    strict: true,
    decode: (body) => Effect.succeed({ _tag: error._tag, message: body.error, details: body.details }),
    encode: (value) => tenantErrorBody(status, value.message, value.details)
  }).annotations(HttpApiSchema.annotations({ status }))

export class ApiBadRequest extends Schema.TaggedError<ApiBadRequest>()("ApiBadRequest", tenantFields) {}
export class ApiUnauthorized extends Schema.TaggedError<ApiUnauthorized>()("ApiUnauthorized", tenantFields) {}
export class ApiNotFound extends Schema.TaggedError<ApiNotFound>()("ApiNotFound", tenantFields) {}
export class ApiConflict extends Schema.TaggedError<ApiConflict>()("ApiConflict", tenantFields) {}
export class ApiRateLimited extends Schema.TaggedError<ApiRateLimited>()("ApiRateLimited", tenantFields) {}
export class ApiBadGateway extends Schema.TaggedError<ApiBadGateway>()("ApiBadGateway", tenantFields) {}
export class ApiUnavailable extends Schema.TaggedError<ApiUnavailable>()("ApiUnavailable", tenantFields) {}
/** Documents the last-resort 500 the edge writes for a defect; domain code never fails with it. */
export class ApiServerError extends Schema.TaggedError<ApiServerError>()("ApiServerError", tenantFields) {}

/** Tenant-facing wire errors for `.addError(...)`, encoded as `ErrorResponse`. */
export const ApiError = {
  BadRequest: tenantEnvelope(ApiBadRequest, 400),
  Unauthorized: tenantEnvelope(ApiUnauthorized, 401),
  NotFound: tenantEnvelope(ApiNotFound, 404),
  Conflict: tenantEnvelope(ApiConflict, 409),
  RateLimited: tenantEnvelope(ApiRateLimited, 429),
  BadGateway: tenantEnvelope(ApiBadGateway, 502),
  Unavailable: tenantEnvelope(ApiUnavailable, 503),
  ServerError: tenantEnvelope(ApiServerError, 500)
} as const
