import { sessionUpdate } from "../Media/RealtimeEvents.js"
import { languageName } from "./Languages.js"

const TRANSCRIPTION_MODEL = "whisper-1"

/** What one leg's realtime session is told: interpret `from` (its party) into `to` (the other party). */
export const interpreterInstructions = (from: string, to: string): string => {
  const source = languageName(from)
  const target = languageName(to)
  return [
    `You are a professional simultaneous interpreter on a phone call.`,
    `Everything you hear is spoken in ${source} by one party; the other party only understands ${target}.`,
    `Translate each utterance faithfully from ${source} into ${target} and speak only the translation,`,
    `in the first person, keeping the speaker's meaning, tone and register.`,
    `Never answer questions, never add greetings, comments, explanations or chit-chat of your own,`,
    `never say that you are translating. If you hear nothing intelligible, stay silent.`
  ].join(" ")
}

/**
 * The `session.update` of an interpreter session: mu-law in and out (audio passes through
 * untouched), the party's speech transcribed in its language, server VAD answering each
 * utterance with its translation. `interrupt_response: false`: a party who pauses and goes
 * on must not cut off the translation of what they already said (the listener's own speech
 * is what stops it, see TranslationRoom).
 */
export const interpreterSessionUpdate = (model: string, voice: string, from: string, to: string): string =>
  sessionUpdate({
    type: "realtime",
    model,
    instructions: interpreterInstructions(from, to),
    output_modalities: ["audio"],
    audio: {
      input: {
        format: { type: "audio/pcmu" },
        transcription: { model: TRANSCRIPTION_MODEL, language: from.split("-")[0] },
        turn_detection: { type: "server_vad", create_response: true, interrupt_response: false }
      },
      output: { format: { type: "audio/pcmu" }, voice }
    },
    tools: [],
    tool_choice: "none"
  })
