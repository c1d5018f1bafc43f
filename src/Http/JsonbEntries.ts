import type { Schema } from "effect"
import type { JsonBytes } from "./JsonBytes.js"
import { stringEnd } from "./JsonbText.js"
import type { JsonbWriter } from "./RowJson.js"

/**
 * How an entry's field is decoded by its wire schema, for the fields a fast writer can pass on:
 * - `string`: a required string, copied as PostgreSQL escapes it (as JSON.stringify does, JsonbText.ts);
 * - `json`: required free-form JSON (`AnyJson`), written as JsonBytes#jsonb writes jsonb text;
 * - `optionalJson`: the same, left out when absent;
 * - `optionalNullableInt`: `optionalNullable(Int)`, left out when absent; a plain integer or null.
 */
export type EntryField = "string" | "json" | "optionalJson" | "optionalNullableInt"

/**
 * A jsonb array of objects (a call's transcript or function calls) written as its wire schema
 * would write it: each entry's fields in the schema's order (jsonb keeps keys sorted by length),
 * keys the schema does not know left out, as its decoding leaves them out. Scans PostgreSQL's
 * canonical text (`[{"k": v, ...}, ...]`: one space after `,` and `:`, nowhere else) without
 * parsing it. Anything else (an entry that is not an object, a required field missing, a value of
 * another type, a number JavaScript would write otherwise) is left to the schema path: false.
 */
export const jsonbEntries = <Fields extends Schema.Struct.Fields>(
  fields: Fields,
  kinds: { readonly [K in keyof Fields]: EntryField }
): JsonbWriter => {
  const names = Object.keys(fields)
  const quoted = names.map((name) => JSON.stringify(name))
  const fieldKinds = names.map((name) => kinds[name]!)
  // Where each field's value starts and ends in the entry being read (-1: absent).
  const starts = new Int32Array(names.length)
  const ends = new Int32Array(names.length)

  /** Reads the object at `at` (after its `{`) into starts/ends; the index after its `}`, or -1. */
  const readEntry = (text: string, at: number) => {
    starts.fill(-1)
    let i = at
    if (text.charCodeAt(i) === CLOSE_OBJECT) return i + 1
    for (;;) {
      if (text.charCodeAt(i) !== QUOTE) return -1
      const keyEnd = stringEnd(text, i)
      if (keyEnd < 0 || text.charCodeAt(keyEnd + 1) !== COLON || text.charCodeAt(keyEnd + 2) !== SPACE) return -1
      const valueStart = keyEnd + 3
      const valueEnd = scanValue(text, valueStart)
      if (valueEnd < 0) return -1
      const field = fieldAt(text, i, keyEnd)
      if (field >= 0) {
        starts[field] = valueStart
        ends[field] = valueEnd
      }
      const next = text.charCodeAt(valueEnd)
      if (next === CLOSE_OBJECT) return valueEnd + 1
      if (next !== COMMA || text.charCodeAt(valueEnd + 1) !== SPACE) return -1
      i = valueEnd + 2
    }
  }

  /** Which field the key `text[from..to]` (quotes included) names, or -1. */
  const fieldAt = (text: string, from: number, to: number) => {
    for (let k = 0; k < quoted.length; k++) {
      if (to - from + 1 === quoted[k]!.length && text.startsWith(quoted[k]!, from)) return k
    }
    return -1
  }

  /** Writes the entry read into starts/ends in the schema's order; false where only the schema can tell. */
  const writeEntry = (out: JsonBytes, text: string) => {
    let first = true
    for (let k = 0; k < names.length; k++) {
      const kind = fieldKinds[k]!
      const start = starts[k]!
      if (start < 0) {
        if (kind === "optionalJson" || kind === "optionalNullableInt") continue
        return false
      }
      const value = text.slice(start, ends[k]!)
      if (kind === "string" && value.charCodeAt(0) !== QUOTE) return false
      if (kind === "optionalNullableInt" && value !== "null" && !PLAIN_INTEGER.test(value)) return false
      out.raw(first ? `{${quoted[k]!}:` : `,${quoted[k]!}:`)
      first = false
      if (kind === "string" || kind === "optionalNullableInt") out.raw(value)
      else out.jsonb(value)
    }
    out.ascii(first ? "{}" : "}")
    return true
  }

  return {
    write: (out, text) => {
      if (text.charCodeAt(0) !== OPEN_ARRAY) return false
      out.ascii("[")
      let i = 1
      if (text.charCodeAt(i) !== CLOSE_ARRAY) {
        for (;;) {
          if (text.charCodeAt(i) !== OPEN_OBJECT) return false
          const after = readEntry(text, i + 1)
          if (after < 0 || !writeEntry(out, text)) return false
          const next = text.charCodeAt(after)
          if (next === CLOSE_ARRAY) {
            i = after
            break
          }
          if (next !== COMMA || text.charCodeAt(after + 1) !== SPACE) return false
          out.ascii(",")
          i = after + 2
        }
      }
      out.ascii("]")
      return i === text.length - 1
    }
  }
}

/** The index after the value starting at `at` in canonical jsonb text, or -1. */
const scanValue = (text: string, at: number): number => {
  const first = text.charCodeAt(at)
  if (first === QUOTE) {
    const end = stringEnd(text, at)
    return end < 0 ? -1 : end + 1
  }
  if (first === OPEN_OBJECT || first === OPEN_ARRAY) {
    let depth = 0
    for (let i = at; i < text.length; i++) {
      const ch = text.charCodeAt(i)
      if (ch === QUOTE) {
        i = stringEnd(text, i)
        if (i < 0) return -1
      } else if (ch === OPEN_OBJECT || ch === OPEN_ARRAY) depth++
      else if ((ch === CLOSE_OBJECT || ch === CLOSE_ARRAY) && --depth === 0) return i + 1
    }
    return -1
  }
  let i = at
  while (i < text.length && !SCALAR_END.has(text.charCodeAt(i))) i++
  return i === at ? -1 : i
}

const QUOTE = 34
const COMMA = 44
const COLON = 58
const SPACE = 32
const OPEN_ARRAY = 91
const CLOSE_ARRAY = 93
const OPEN_OBJECT = 123
const CLOSE_OBJECT = 125
const SCALAR_END = new Set([COMMA, CLOSE_ARRAY, CLOSE_OBJECT])
/** An integer JavaScript writes back digit for digit (JsonbText.ts's PLAIN_INTEGER). */
const PLAIN_INTEGER = /^-?\d{1,15}$/
