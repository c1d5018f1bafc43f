import { Schema } from "effect"
import { TaggedFrames } from "./TaggedFrames.js"

/**
 * The OpenAI Realtime server events the bridge acts on, GA names first with the beta
 * names accepted too. Audio deltas normally take the fast path (`FastFrames`); they are
 * here as well so an unusually formatted delta is still relayed. Anything else decodes to
 * `undefined` and is ignored.
 */

const OptionalString = Schema.optional(Schema.String)

const AudioDelta = Schema.Struct({
  type: Schema.Literal("response.output_audio.delta", "response.audio.delta"),
  response_id: Schema.String,
  item_id: Schema.String,
  delta: Schema.String
})

const AudioDone = Schema.Struct({
  type: Schema.Literal("response.output_audio.done", "response.audio.done"),
  response_id: OptionalString,
  item_id: Schema.String
})

/** The first of these after the caller stops speaking is the turn's "LLM first token". */
const OutputDelta = Schema.Struct({
  type: Schema.Literal(
    "response.output_audio_transcript.delta",
    "response.audio_transcript.delta",
    "response.output_text.delta",
    "response.text.delta",
    "response.function_call_arguments.delta"
  ),
  response_id: OptionalString,
  item_id: OptionalString,
  /** The text itself: what an ElevenLabs voice speaks (text output). */
  delta: OptionalString
})

const AssistantTranscript = Schema.Struct({
  type: Schema.Literal("response.output_audio_transcript.done", "response.audio_transcript.done"),
  item_id: Schema.String,
  transcript: Schema.String
})

const AssistantText = Schema.Struct({
  type: Schema.Literal("response.output_text.done", "response.text.done"),
  item_id: Schema.String,
  text: Schema.String
})

const FunctionCall = Schema.Struct({
  type: Schema.Literal("response.function_call_arguments.done"),
  response_id: OptionalString,
  call_id: Schema.String,
  name: Schema.String,
  arguments: Schema.String
})

const ResponseRef = Schema.Struct({ id: Schema.String, status: OptionalString })

const ResponseCreated = Schema.Struct({ type: Schema.Literal("response.created"), response: ResponseRef })
const ResponseDone = Schema.Struct({ type: Schema.Literal("response.done"), response: ResponseRef })

const SpeechStarted = Schema.Struct({ type: Schema.Literal("input_audio_buffer.speech_started"), item_id: OptionalString })
const SpeechStopped = Schema.Struct({ type: Schema.Literal("input_audio_buffer.speech_stopped"), item_id: OptionalString })

const UserTranscript = Schema.Struct({
  type: Schema.Literal("conversation.item.input_audio_transcription.completed"),
  item_id: Schema.String,
  transcript: Schema.String
})

const ErrorEvent = Schema.Struct({
  type: Schema.Literal("error"),
  error: Schema.Struct({ message: Schema.String, code: Schema.optional(Schema.NullOr(Schema.String)) })
})

export const RealtimeEvent = Schema.Union(
  AudioDelta,
  AudioDone,
  OutputDelta,
  AssistantTranscript,
  AssistantText,
  FunctionCall,
  ResponseCreated,
  ResponseDone,
  SpeechStarted,
  SpeechStopped,
  UserTranscript,
  ErrorEvent
)
export type RealtimeEvent = typeof RealtimeEvent.Type

/** By `type`, each member's own literals: events the bridge ignores are skipped without a schema. */
const frames = TaggedFrames.of(RealtimeEvent, "type")

/** An upstream frame the fast path did not take; `undefined` for events the bridge ignores. */
export const decodeRealtimeEvent = (frame: Buffer): RealtimeEvent | undefined => frames.decode(frame)

// --- client events ------------------------------------------------------------------------

export const APPEND_PREFIX = Buffer.from("{\"type\":\"input_audio_buffer.append\",\"audio\":\"")
export const APPEND_SUFFIX = Buffer.from("\"}")

/**
 * The one per-frame client event as JSON bytes (for audio queued while no upstream is
 * open; live audio is framed directly by `RealtimeSocket.sendAudio`).
 */
export const appendAudio = (bytes: Buffer, start: number, end: number): Buffer => {
  const event = Buffer.allocUnsafe(APPEND_PREFIX.length + (end - start) + APPEND_SUFFIX.length)
  event.set(APPEND_PREFIX, 0)
  event.set(bytes.subarray(start, end), APPEND_PREFIX.length)
  event.set(APPEND_SUFFIX, event.length - APPEND_SUFFIX.length)
  return event
}

const event = (type: string, fields: Record<string, unknown> = {}): string => JSON.stringify({ type, ...fields })

export const responseCreate = (instructions?: string): string =>
  event("response.create", instructions === undefined ? {} : { response: { instructions } })

export const responseCancel = (): string => event("response.cancel")

export const truncateItem = (itemId: string, audioEndMs: number): string =>
  event("conversation.item.truncate", { item_id: itemId, content_index: 0, audio_end_ms: audioEndMs })

export const userText = (text: string): string =>
  event("conversation.item.create", {
    item: { type: "message", role: "user", content: [{ type: "input_text", text }] }
  })

/** Context for the model (from outside the call); it does not ask for a response. */
export const systemText = (text: string): string =>
  event("conversation.item.create", {
    item: { type: "message", role: "system", content: [{ type: "input_text", text }] }
  })

/** Instructions for a response that says `text` and nothing else. */
export const sayExactly = (text: string): string =>
  `Say exactly this to the caller, and nothing else: ${JSON.stringify(text)}`

export const assistantText = (text: string): string =>
  event("conversation.item.create", {
    item: { type: "message", role: "assistant", content: [{ type: "output_text", text }] }
  })

export const functionCallOutput = (callId: string, output: unknown): string =>
  event("conversation.item.create", {
    item: { type: "function_call_output", call_id: callId, output: JSON.stringify(output ?? null) }
  })

/** Removes an item from the conversation (text the caller never heard in full). */
export const deleteItem = (itemId: string): string => event("conversation.item.delete", { item_id: itemId })

export const sessionUpdate = (session: Record<string, unknown>): string => event("session.update", { session })
