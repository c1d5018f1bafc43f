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
    this.length += this.bytes.write(text, this.length)
  }

  /** Text of ASCII characters only (JSON punctuation, numbers, keys known to be plain). */
  ascii(text: string) {
    this.reserve(text.length)
    this.length += this.bytes.write(text, this.length, "latin1")
  }

  /** A string as JSON.stringify writes it: copied between quotes unless a character needs escaping. */
  string(value: string) {
    if (NEEDS_ESCAPE.test(value)) return this.raw(JSON.stringify(value))
    this.reserve(value.length * 3 + 2)
    this.bytes[this.length++] = QUOTE
    this.length += this.bytes.write(value, this.length)
    this.bytes[this.length++] = QUOTE
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
    const body = Buffer.allocUnsafeSlow(this.length)
    this.bytes.copy(body, 0, 0, this.length)
    return body
  }

  reset() {
    this.length = 0
  }
}

/** Characters JSON.stringify escapes (controls, quote, backslash, lone surrogates: paired ones take that path too, and it writes them as they are). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/

const QUOTE = 34
const BACKSLASH = 92
const COLON = 58
const SPACE = 32
const MINUS = 45
const ZERO = 48

const isDigit = (byte: number) => byte >= 48 && byte <= 57
const isNumberChar = (byte: number) => isDigit(byte) || byte === 46 || byte === 101 || byte === 69 || byte === 43 || byte === MINUS

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
