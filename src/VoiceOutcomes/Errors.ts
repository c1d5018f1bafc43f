import { Schema } from "effect"

export class VoiceOutcomeNotFound extends Schema.TaggedError<VoiceOutcomeNotFound>()("VoiceOutcomeNotFound", {
  key: Schema.String
}) {
  readonly status = 404 as const
  override get message() {
    return `Voice outcome not found: ${this.key}`
  }
}
