import { isoOfTimestamptz, isPlainUtc } from "../Database/TimestampText.js"
import { compactJsonb } from "./JsonbText.js"

/**
 * A JSON body written as UTF-8 straight into bytes: a list page's values go from the strings
 * `pg` hands over into one buffer outside the JavaScript heap, without the per-field strings,
 * the concatenated text and its flattened copy a string body costs (a 66 KB voice-sessions
 * page allocated ~640 KB of heap, bench/RESULTS.md "List pages' allocation"). Every writer
 * writes the bytes of the text `JSON.stringify` writes for the value.
 */
export class JsonBytes {
  private bytes: Buffer
  private length = 0

  constructor(capacity: number) {
    this.bytes = Buffer.allocUnsafeSlow(capacity)
  }

  /** Room for `count` more bytes. */
  private reserve(count: number) {
    if (this.length + count <= this.bytes.length) return
    const larger = Buffer.allocUnsafeSlow(Math.max(this.bytes.length * 2, this.length + count))
    this.bytes.copy(larger, 0, 0, this.length)
    this.bytes = larger
  }

  /** Text that is JSON as it stands (any Unicode: at most 3 bytes per UTF-16 unit). */
  raw(text: string) {
    this.reserve(text.length * 3)
    if (text.length > SHORT || !this.copyPlain(text, false)) this.length += this.bytes.write(text, this.length)
  }

  /** Text of ASCII characters only (JSON punctuation, numbers). */
  ascii(text: string) {
    this.reserve(text.length)
    if (text.length > SHORT || !this.copyPlain(text, false)) this.length += this.bytes.write(text, this.length, "latin1")
  }

  /** A string as JSON.stringify writes it: copied between quotes unless a character needs escaping. */
  string(value: string) {
    this.reserve(value.length * 3 + 2)
    const open = this.length
    this.bytes[this.length++] = QUOTE
    if (value.length <= SHORT && this.copyPlain(value, true)) {
      this.bytes[this.length++] = QUOTE
      return
    }
    this.length = open
    if (NEEDS_ESCAPE.test(value)) return this.raw(JSON.stringify(value))
    this.bytes[this.length++] = QUOTE
    this.length += this.bytes.write(value, this.length)
    this.bytes[this.length++] = QUOTE
  }

  /**
   * Copies `text` a byte per character when every character is ASCII (and, `inString`, none
   * that JSON.stringify escapes there): for the short values of a row, cheaper than a call into
   * node's encoder. False, and nothing written, otherwise. Room must be reserved.
   */
  private copyPlain(text: string, inString: boolean) {
    const b = this.bytes
    let at = this.length
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i)
      if (code >= 0x80 || (inString && (code < 0x20 || code === QUOTE || code === BACKSLASH))) return false
      b[at++] = code
    }
    this.length = at
    return true
  }

  /**
   * A `timestamptz` as PostgreSQL's text (`col::text`), written as the API's ISO string
   * (Database/TimestampText.ts's `isoOfTimestamptz`): a UTC session's text is copied and
   * rearranged in the buffer ("2026-12-03 13:18:27.1234+00" -> "2026-12-03T13:18:27.123Z"),
   * with no string built; any other text takes `isoOfTimestamptz`.
   */
  timestamp(text: string) {
    if (!isPlainUtc(text)) return this.string(isoOfTimestamptz(text))
    this.reserve(ISO_LENGTH + 2)
    const b = this.bytes
    let at = this.length
    b[at++] = QUOTE
    for (let i = 0; i < WHOLE_SECONDS; i++) b[at++] = text.charCodeAt(i)
    b[at - WHOLE_SECONDS + DATE_LENGTH] = LETTER_T
    b[at++] = DOT
    // PostgreSQL drops trailing zeros of the fraction: pad to milliseconds, cut the rest.
    const fractionEnd = text.length - 3
    for (let i = WHOLE_SECONDS + 1; i < WHOLE_SECONDS + 4; i++) b[at++] = i < fractionEnd ? text.charCodeAt(i) : ZERO
    b[at++] = LETTER_Z
    b[at++] = QUOTE
    this.length = at
  }

  /**
   * A jsonb value's text as PostgreSQL writes it, written as Http/JsonbText.ts's `compactJsonb`
   * writes it: the text's bytes are copied and compacted in place (the spaces outside strings
   * dropped; UTF-8 continuation bytes never equal a quote, backslash or space). Where
   * `compactJsonb` rewrites (a number JavaScript renders differently, an array-index key),
   * its text is written instead.
   */
  jsonb(text: string) {
    const start = this.length
    this.raw(text)
    const end = this.length
    const b = this.bytes
    let read = start
    let write = start
    while (read < end) {
      const byte = b[read]!
      if (byte === QUOTE) {
        const open = write
        b[write++] = b[read++]!
        let closed = false
        while (read < end && !closed) {
          const inside = b[read++]!
          b[write++] = inside
          if (inside === BACKSLASH) b[write++] = b[read++]!
          else closed = inside === QUOTE
        }
        if (!closed) return this.rewritten(start, text)
        if (b[read] === COLON && isArrayIndex(b, open + 1, write - 1)) return this.rewritten(start, text)
      } else if (byte === SPACE) {
        read++
      } else if (byte === MINUS || isDigit(byte)) {
        let tokenEnd = read + 1
        while (tokenEnd < end && isNumberChar(b[tokenEnd]!)) tokenEnd++
        if (!isPlainInteger(b, read, tokenEnd)) return this.rewritten(start, text)
        while (read < tokenEnd) b[write++] = b[read++]!
      } else {
        b[write++] = b[read++]!
      }
    }
    this.length = write
  }

  private rewritten(start: number, text: string) {
    this.length = start
    this.raw(compactJsonb(text))
  }

  /** The bytes written, in a buffer of their own. */
  take(): Buffer {
    const body = Buffer.allocUnsafe(this.length)
    this.bytes.copy(body, 0, 0, this.length)
    return body
  }

  reset() {
    this.length = 0
  }
}

/** Characters JSON.stringify escapes (controls, quote, backslash, lone surrogates: paired ones take that path too, and it writes them as they are). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/

/** Strings up to this length are copied by copyPlain. */
const SHORT = 64
const QUOTE = 34
const BACKSLASH = 92
const COLON = 58
const SPACE = 32
const MINUS = 45
const ZERO = 48
const DOT = 46
const LETTER_T = 84
const LETTER_Z = 90
/** "YYYY-MM-DD" */
const DATE_LENGTH = 10
/** "YYYY-MM-DD HH:MM:SS" */
const WHOLE_SECONDS = 19
/** "YYYY-MM-DDTHH:MM:SS.mmmZ" */
const ISO_LENGTH = 24

const isDigit = (byte: number) => byte >= ZERO && byte <= ZERO + 9
const isNumberChar = (byte: number) => isDigit(byte) || byte === DOT || byte === 101 || byte === 69 || byte === 43 || byte === MINUS

/** `-?\d{1,15}`: an integer JavaScript writes back digit for digit (JsonbText.ts's PLAIN_INTEGER). */
const isPlainInteger = (b: Buffer, from: number, to: number) => {
  const digitsFrom = b[from] === MINUS ? from + 1 : from
  const digits = to - digitsFrom
  if (digits < 1 || digits > 15) return false
  for (let i = digitsFrom; i < to; i++) if (!isDigit(b[i]!)) return false
  return true
}

/** `0|[1-9]\d*`: a key JavaScript orders first (JsonbText.ts's ARRAY_INDEX). */
const isArrayIndex = (b: Buffer, from: number, to: number) => {
  if (to <= from || (b[from] === ZERO && to - from > 1)) return false
  for (let i = from; i < to; i++) if (!isDigit(b[i]!)) return false
  return true
}

/** One writer reused by every page (writing a page is synchronous, nothing interleaves). */
const shared = new JsonBytes(64 * 1024)

/** The bytes `write` writes, as a buffer of their own. */
export const jsonBytes = (write: (out: JsonBytes) => void): Buffer => {
  shared.reset()
  write(shared)
  return shared.take()
}

/** The bytes `write` writes, or undefined when it gives up part way (returns false). */
export const jsonBytesUnlessRefused = (write: (out: JsonBytes) => boolean): Buffer | undefined => {
  shared.reset()
  return write(shared) ? shared.take() : undefined
}
