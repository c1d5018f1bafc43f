import { Schema } from "effect"

export class VoiceSessionEvalNotFound extends Schema.TaggedError<VoiceSessionEvalNotFound>()("VoiceSessionEvalNotFound", {
  key: Schema.String
}) {
  readonly status = 404 as const
  override get message() {
    return `Evaluation not found for voice session: ${this.key}`
  }
}
