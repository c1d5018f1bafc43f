import { Schema } from "effect"

export class VoiceSessionNotFound extends Schema.TaggedError<VoiceSessionNotFound>()("VoiceSessionNotFound", {
  key: Schema.String
}) {
  readonly status = 404 as const
  override get message() {
    return `Voice session not found: ${this.key}`
  }
}

export class VoiceSessionExists extends Schema.TaggedError<VoiceSessionExists>()("VoiceSessionExists", {
  streamId: Schema.String
}) {
  readonly status = 409 as const
  override get message() {
    return `A voice session for stream ${this.streamId} already exists`
  }
}

export class InvalidVoiceRecordInput extends Schema.TaggedError<InvalidVoiceRecordInput>()("InvalidVoiceRecordInput", {
  message: Schema.String
}) {
  readonly status = 400 as const
}
