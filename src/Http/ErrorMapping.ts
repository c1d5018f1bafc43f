import { Effect, FiberRef } from "effect"
import {
  AccessRequestInvalid,
  AccessRequestUnavailable,
  AdminBadRequest,
  AdminConflict,
  AdminNotFound,
  AdminPreconditionFailed,
  AdminRateLimited,
  AdminUnauthorized,
  AdminUnavailable,
  ApiBadGateway,
  ApiBadRequest,
  ApiConflict,
  ApiNotFound,
  ApiRateLimited,
  ApiUnauthorized,
  ApiUnavailable
} from "./Errors.js"
import { CurrentRequest } from "./RequestContext.js"

/**
 * A domain error says what went wrong and which HTTP status that is (`status` is a
 * literal on each class); the audience's handlers turn it into that audience's envelope.
 */
export interface DomainError<Status extends number = number> {
  readonly _tag: string
  readonly status: Status
  readonly message: string
  readonly details?: unknown
  readonly retryAfterSeconds?: number
}

interface AdminByStatus {
  400: AdminBadRequest
  401: AdminUnauthorized
  404: AdminNotFound
  409: AdminConflict
  412: AdminPreconditionFailed
  429: AdminRateLimited
  503: AdminUnavailable
}

interface ApiByStatus {
  400: ApiBadRequest
  401: ApiUnauthorized
  404: ApiNotFound
  409: ApiConflict
  429: ApiRateLimited
  502: ApiBadGateway
  503: ApiUnavailable
}

interface AccessByStatus {
  400: AccessRequestInvalid
  503: AccessRequestUnavailable
}

const adminError = (error: DomainError): AdminByStatus[keyof AdminByStatus] => {
  const message = error.message
  switch (error.status) {
    case 400: return new AdminBadRequest({ message })
    case 401: return new AdminUnauthorized({ message })
    case 404: return new AdminNotFound({ message })
    case 409: return new AdminConflict({ message })
    case 412: return new AdminPreconditionFailed({ message })
    case 429: return new AdminRateLimited({ message })
    default: return new AdminUnavailable({ message })
  }
}

const apiError = (error: DomainError): ApiByStatus[keyof ApiByStatus] => {
  const fields = { message: error.message, details: error.details }
  switch (error.status) {
    case 400: return new ApiBadRequest(fields)
    case 401: return new ApiUnauthorized(fields)
    case 404: return new ApiNotFound(fields)
    case 409: return new ApiConflict(fields)
    case 429: return new ApiRateLimited(fields)
    case 502: return new ApiBadGateway(fields)
    default: return new ApiUnavailable(fields)
  }
}

const accessError = (error: DomainError): AccessByStatus[keyof AccessByStatus] =>
  error.status === 400
    ? new AccessRequestInvalid({ message: error.message })
    : new AccessRequestUnavailable({ message: error.message })

const rememberRetryAfter = (error: DomainError) =>
  error.retryAfterSeconds === undefined
    ? Effect.void
    : Effect.map(FiberRef.get(CurrentRequest), (request) => {
      if (request !== undefined) request.retryAfterSeconds = error.retryAfterSeconds
    })

const mapWith = <Table>(convert: (error: DomainError) => Table[keyof Table]) =>
<A, E extends DomainError<keyof Table & number>, R>(
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, Table[E["status"]], R> =>
  Effect.catchAll(
    self,
    (error) => Effect.zipRight(rememberRetryAfter(error), Effect.fail(convert(error) as Table[E["status"]]))
  )

/** Domain failures as `AdminErrorResponse` errors of the same status. */
export const asAdminErrors = mapWith<AdminByStatus>(adminError)

/** Domain failures as tenant-facing `ErrorResponse` errors of the same status. */
export const asApiErrors = mapWith<ApiByStatus>(apiError)

/** Domain failures as `ApiAccessRequestErrorResponse` errors. */
export const asAccessErrors = mapWith<AccessByStatus>(accessError)
