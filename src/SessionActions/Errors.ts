import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import { Effect, Schema } from "effect"
import type { DomainError } from "../Http/ErrorMapping.js"
import { SessionActionResponse } from "./Schemas.js"


export class SessionActionInvalid extends Schema.TaggedError<SessionActionInvalid>()("SessionActionInvalid", { message: Schema.String }) {}
export class SessionNotFound extends Schema.TaggedError<SessionNotFound>()("SessionNotFound", { message: Schema.String }) {}
export class SessionActionConflict extends Schema.TaggedError<SessionActionConflict>()("SessionActionConflict", { message: Schema.String }) {}
export class SessionActionUnavailable extends Schema.TaggedError<SessionActionUnavailable>()("SessionActionUnavailable", { message: Schema.String }) {}

const enveloped = <Tag extends string, Self extends { readonly message: string }>(
  error: Schema.Schema<Self, { readonly _tag: Tag; readonly message: string }> & { readonly _tag: Tag },
  status: number
) =>
  // The spec answers this endpoint's errors with `SessionActionResponse` itself: `{ ok: false, message }`.
  Schema.transform(SessionActionResponse, error, {
    strict: true,
    decode: (body) => ({ _tag: error._tag, message: body.message }),
    encode: (value) => new SessionActionResponse({ ok: false, message: value.message })
  }).annotations(HttpApiSchema.annotations({ status }))

export const SessionActionError = {
  BadRequest: enveloped(SessionActionInvalid, 400),
  NotFound: enveloped(SessionNotFound, 404),
  Conflict: enveloped(SessionActionConflict, 409),
  Unavailable: enveloped(SessionActionUnavailable, 503)
} as const

type WireError = SessionActionInvalid | SessionNotFound | SessionActionConflict | SessionActionUnavailable

const wire = (error: DomainError<400 | 404 | 409 | 503>): WireError => {
  const message = error.message
  switch (error.status) {
    case 400: return new SessionActionInvalid({ message })
    case 404: return new SessionNotFound({ message })
    case 409: return new SessionActionConflict({ message })
    default: return new SessionActionUnavailable({ message })
  }
}

/** Domain failures (each with its status) as the endpoint's wire errors. */
export const asSessionActionErrors = <A, E extends DomainError<400 | 404 | 409 | 503>, R>(self: Effect.Effect<A, E, R>) =>
  Effect.mapError(self, wire)

/** A request the action cannot take (unknown action, a missing note). */
export class InvalidAction extends Schema.TaggedError<InvalidAction>()("InvalidAction", { message: Schema.String }) {
  readonly status = 400 as const
}

/** The call cannot take the action now (refused by the call, not available, no call SID). */
export class ActionRefused extends Schema.TaggedError<ActionRefused>()("ActionRefused", { message: Schema.String }) {
  readonly status = 409 as const
}

/** A dependency (Twilio) failed. */
export class ActionUnavailable extends Schema.TaggedError<ActionUnavailable>()("ActionUnavailable", { message: Schema.String }) {
  readonly status = 503 as const
}
