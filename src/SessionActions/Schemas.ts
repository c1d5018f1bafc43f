import { Schema } from "effect"
import { BoundedString, optionalNullable, Text } from "../Http/Schemas.js"

/** The whisper note goes to the model wrapped in a sentence; both must fit a command's 4000 characters. */
export const NOTE_MAX = 3_000

export class SessionActionBody extends Schema.Class<SessionActionBody>("SessionActionBody")({
  note: optionalNullable(BoundedString(NOTE_MAX)),
  reason: optionalNullable(BoundedString(1_000)),
  supervisor: Schema.optional(Text.Name),
  target: optionalNullable(Text.Phone)
}, { description: "Request body for session control actions (monitor, whisper, barge, escalate, end)" }) {}

export class SessionActionResponse extends Schema.Class<SessionActionResponse>("SessionActionResponse")({
  message: Schema.String,
  ok: Schema.Boolean
}, { description: "Acknowledgement returned after performing a session control action" }) {}

