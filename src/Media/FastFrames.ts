/**
 * The audio fast path (STYLE.md §9): media frames are the bulk of the traffic, so the two
 * shapes that carry audio (Twilio `media` and OpenAI `*audio.delta`) and Twilio's `mark`
 * echoes are read by locating fields in the raw bytes instead of parsing JSON. The audio
 * itself is never turned into a string: callers get its byte range in the frame and copy
 * those bytes into the outgoing frame. Anything not in the exact compact shape the
 * providers send returns `false`, and the caller decodes the frame with its Schema
 * instead — an unusual frame is slower, never misread. Base64 never contains `"` or `\`,
 * so a value ends at the next quote; a backslash inside it means an escaped string,
 * which we leave to the slow path.
 */

const QUOTE = 0x22
const BACKSLASH = 0x5c
const EQUALS = 0x3d

const bytes = (text: string) => Buffer.from(text, "latin1")

const TWILIO_MEDIA = bytes("{\"event\":\"media\"")
const TWILIO_MARK = bytes("{\"event\":\"mark\"")
const PAYLOAD_KEY = bytes("\"payload\":\"")
const NAME_KEY = bytes("\"name\":\"")

const GA_AUDIO_DELTA = bytes("{\"type\":\"response.output_audio.delta\"")
const BETA_AUDIO_DELTA = bytes("{\"type\":\"response.audio.delta\"")
const DELTA_KEY = bytes("\"delta\":\"")
const RESPONSE_ID_KEY = bytes("\"response_id\":\"")
const ITEM_ID_KEY = bytes("\"item_id\":\"")

const startsWith = (frame: Buffer, prefix: Buffer) =>
  frame.length >= prefix.length && frame.compare(prefix, 0, prefix.length, 0, prefix.length) === 0

/** Where a located string value starts and ends (exclusive); one per parser, reused. */
interface Range {
  start: number
  end: number
}

/**
 * Locates the string value of `"key":"…"` after `from` into `out`. `escapeAt` is the first
 * backslash in the frame (-1: none); a value containing one is refused.
 */
const locate = (frame: Buffer, key: Buffer, from: number, escapeAt: number, out: Range): boolean => {
  const at = frame.indexOf(key, from)
  if (at === -1) return false
  const start = at + key.length
  const end = frame.indexOf(QUOTE, start)
  if (end === -1) return false
  if (escapeAt !== -1 && escapeAt < end) {
    const inside = frame.indexOf(BACKSLASH, start)
    if (inside !== -1 && inside < end) return false
  }
  out.start = start
  out.end = end
  return true
}

/** What a fast read of a Twilio frame found; one instance per socket, overwritten per frame. */
export interface TwilioFastFrame {
  kind: "media" | "mark"
  /** The base64 payload (`media`) or the mark's name (`mark`): `frame[start, end)`. */
  start: number
  end: number
}

/**
 * Reads a Twilio `media` or `mark` frame into `out`. `false` means "not one of those in
 * Twilio's compact shape": decode the frame with `TwilioEvents` instead.
 */
export const readTwilioFrame = (frame: Buffer, out: TwilioFastFrame): boolean => {
  if (startsWith(frame, TWILIO_MEDIA)) {
    if (!locate(frame, PAYLOAD_KEY, TWILIO_MEDIA.length, frame.indexOf(BACKSLASH, TWILIO_MEDIA.length), out)) return false
    out.kind = "media"
    return true
  }
  if (startsWith(frame, TWILIO_MARK)) {
    if (!locate(frame, NAME_KEY, TWILIO_MARK.length, frame.indexOf(BACKSLASH, TWILIO_MARK.length), out)) return false
    out.kind = "mark"
    return true
  }
  return false
}

/**
 * An OpenAI audio delta: its ids, and its base64 audio as `bytes[start, end)`. A fresh,
 * short-lived object per frame: cheaper for the young-generation GC than storing new
 * strings and buffers into a long-lived scratch object (a write barrier per field).
 */
export interface AudioDelta {
  readonly responseId: string
  readonly itemId: string
  readonly bytes: Buffer
  readonly start: number
  readonly end: number
}

const scratch: Range = { start: 0, end: 0 }

/**
 * Reads an OpenAI `response.output_audio.delta` (GA) or `response.audio.delta` (beta)
 * event. `undefined` means decode the frame with `RealtimeEvents` instead.
 */
export const readAudioDelta = (frame: Buffer): AudioDelta | undefined => {
  let from: number
  if (startsWith(frame, GA_AUDIO_DELTA)) from = GA_AUDIO_DELTA.length
  else if (startsWith(frame, BETA_AUDIO_DELTA)) from = BETA_AUDIO_DELTA.length
  else return undefined
  const escapeAt = frame.indexOf(BACKSLASH, from)
  if (!locate(frame, RESPONSE_ID_KEY, from, escapeAt, scratch)) return undefined
  const responseId = frame.toString("latin1", scratch.start, scratch.end)
  if (!locate(frame, ITEM_ID_KEY, from, escapeAt, scratch)) return undefined
  const itemId = frame.toString("latin1", scratch.start, scratch.end)
  if (!locate(frame, DELTA_KEY, from, escapeAt, scratch)) return undefined
  return { responseId, itemId, bytes: frame, start: scratch.start, end: scratch.end }
}

/** Decoded size of the base64 text in `bytes[start, end)`, without decoding it. */
export const base64ByteLength = (bytes: Buffer, start: number, end: number): number => {
  const length = end - start
  if (length <= 0) return 0
  let padding = 0
  if (bytes[end - 1] === EQUALS) padding++
  if (length > 1 && bytes[end - 2] === EQUALS) padding++
  return ((length * 3) >>> 2) - padding
}
