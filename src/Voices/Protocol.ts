import { Either, Schema } from "effect"

/**
 * ElevenLabs' WebSocket text-to-speech stream (`stream-input`): we send the text as it is
 * generated, it answers with base64 audio in the format we asked for (`ulaw_8000`, which is
 * what Twilio plays: no transcoding) and, per chunk, which characters it speaks when.
 */

/** Where and as whom a call's text is spoken. The key never leaves this object except as a header. */
export interface ElevenLabsTarget {
  readonly baseUrl: string
  readonly apiKey: string
  readonly voiceId: string
  readonly modelId: string
}

export const OUTPUT_FORMAT = "ulaw_8000"

/** `https://api.elevenlabs.io` -> `wss://api.elevenlabs.io/v1/text-to-speech/<voice>/stream-input?...`. */
export const streamInputUrl = (target: ElevenLabsTarget): string =>
  `${target.baseUrl.replace(/^http/, "ws")}/v1/text-to-speech/${encodeURIComponent(target.voiceId)}/stream-input` +
  `?model_id=${encodeURIComponent(target.modelId)}&output_format=${OUTPUT_FORMAT}`

/** The first message opens the stream: a single space, as the API requires. */
export const beginStream = (): string => JSON.stringify({ text: " " })

/** Text as it arrives; asks ElevenLabs to start speaking as soon as it has enough. */
export const streamText = (text: string): string => JSON.stringify({ text, try_trigger_generation: true })

/** Empty text ends the stream: the rest is spoken, then `isFinal`. */
export const endStream = (): string => JSON.stringify({ text: "" })

/** Per chunk: each character and when it starts, in ms from the start of that chunk. */
const Alignment = Schema.Struct({
  chars: Schema.Array(Schema.String),
  charStartTimesMs: Schema.Array(Schema.Number)
})
export type Alignment = typeof Alignment.Type

const ServerMessage = Schema.Struct({
  audio: Schema.optional(Schema.NullOr(Schema.String)),
  isFinal: Schema.optional(Schema.NullOr(Schema.Boolean)),
  alignment: Schema.optional(Schema.NullOr(Alignment)),
  error: Schema.optional(Schema.NullOr(Schema.String)),
  message: Schema.optional(Schema.NullOr(Schema.String))
})
export type ServerMessage = typeof ServerMessage.Type

const decode = Schema.decodeEither(Schema.parseJson(ServerMessage))

/** A frame from ElevenLabs, or undefined when it is not one we understand. */
export const decodeServerMessage = (frame: string): ServerMessage | undefined => {
  const decoded = decode(frame)
  return Either.isRight(decoded) ? decoded.right : undefined
}
