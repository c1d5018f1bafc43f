import { Schema } from "effect"

/** Wire primitives shared by every domain contract, annotated so OpenAPI shows the spec's types. */

export const Int = Schema.Number.pipe(Schema.int()).annotations({ jsonSchema: { type: "integer" } })

export const NonNegativeInt = Schema.Number.pipe(Schema.int(), Schema.nonNegative()).annotations({
  jsonSchema: { type: "integer", minimum: 0 }
})

/** Free-form JSON (`{}` in the spec). */
export const AnyJson = Schema.Unknown.annotations({ jsonSchema: {} })

const nullWhenAbsent = (value: unknown) => value === undefined ? null : value

/**
 * Free-form JSON the spec requires: absent reads and writes as null, so the key is always
 * written (with `AnyJson` a missing key decodes to undefined, which JSON leaves out).
 */
export const RequiredJson = Schema.transform(Schema.Unknown, Schema.Unknown, {
  strict: true,
  decode: nullWhenAbsent,
  encode: nullWhenAbsent
}).annotations({ jsonSchema: {} })

/** An ISO 8601 timestamp on the wire and in rows (see Database/Client.ts), a Date in code. */
export const Timestamp = Schema.Date.annotations({ jsonSchema: { type: "string", format: "date-time" } })

/**
 * The spec's optional `type: [X, "null"]` fields. Responses always write them (null when
 * unset); on input an absent field reads as undefined. (A decoding default would make
 * OpenAPI inline the whole class instead of naming it.)
 */
export const optionalNullable = <A, I, R>(schema: Schema.Schema<A, I, R>) => Schema.optional(Schema.NullOr(schema))

export const Uuid = Schema.String.pipe(
  Schema.pattern(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, { message: () => "must be a UUID" })
).annotations({ jsonSchema: { type: "string", format: "uuid" } })

/**
 * A path id the spec documents as a UUID. Any text is accepted: one that is not a UUID names
 * no row, so the answer is the endpoint's 404, as for a UUID that names nothing.
 */
export const UuidPathId = (description: string) =>
  Schema.String.annotations({ description, jsonSchema: { type: "string", format: "uuid" } })

/**
 * A decimal integer written as text (query strings): `Number()` alone would also read
 * `0x10`, `1e1`, ` 16` and `Infinity`.
 */
const DecimalNumberFromString = Schema.compose(
  Schema.String.pipe(Schema.pattern(/^-?\d{1,15}$/, { message: () => "must be a decimal integer" })),
  Schema.NumberFromString
)

const INT32 = 2 ** 31

/** A 32-bit integer query parameter (query strings arrive as text), the spec's `format: int32`. */
export const IntFromQuery = DecimalNumberFromString.pipe(
  Schema.int(),
  // The range is also what makes OpenAPI show the annotation: a lone `int()` on a transformation shows the text side.
  Schema.between(-INT32, INT32 - 1, { message: () => `must be between ${-INT32} and ${INT32 - 1}` })
).annotations({ jsonSchema: { type: "integer", format: "int32" } })

export const NonNegativeIntFromQuery = DecimalNumberFromString.pipe(Schema.int(), Schema.nonNegative()).annotations({
  jsonSchema: { type: "integer", minimum: 0 }
})

export const BooleanFromQuery = Schema.Literal("true", "false", "1", "0").pipe(
  Schema.transform(Schema.Boolean, {
    strict: true,
    decode: (text) => text === "true" || text === "1",
    encode: (flag) => (flag ? "true" : "false")
  })
).annotations({ jsonSchema: { type: "boolean" } })

/** `limit` query parameter: 1..max. */
export const LimitParam = (max: number) =>
  DecimalNumberFromString.pipe(Schema.int(), Schema.between(1, max, { message: () => `must be between 1 and ${max}` }))
    .annotations({ jsonSchema: { type: "integer", format: "int64" } })

/** `offset` query parameter: 0 or more. */
export const OffsetParam = DecimalNumberFromString.pipe(
  Schema.int(),
  Schema.nonNegative({ message: () => "must be 0 or more" })
).annotations({ jsonSchema: { type: "integer", format: "int64" } })

/** Text PostgreSQL can store and JSON can carry: no NUL and no unpaired UTF-16 surrogate. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
export const isStorableText = (text: string): boolean => !text.includes("\u0000") && !LONE_SURROGATE.test(text)

/** A string of at most `maxLength` characters that `isStorableText`; the limit shows in OpenAPI. */
export const BoundedString = (maxLength: number) =>
  Schema.String.pipe(
    Schema.maxLength(maxLength, { message: () => `must be at most ${maxLength} characters` }),
    Schema.filter(isStorableText, { message: () => "must not contain NUL characters or unpaired surrogates" })
  )

/** UTF-8 size of a string without Node's Buffer: these schemas also run in the browser console. */
const utf8Length = (text: string): number => {
  let bytes = text.length
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) continue
    if (code < 0x800) bytes += 1
    else if (code <= 0xdbff && code >= 0xd800 && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 2 // a surrogate pair: two code units, four bytes
      i++
    } else bytes += 2
  }
  return bytes
}

/** Free-form JSON whose serialised form is at most `maxBytes` (metadata, transcripts). */
export const JsonDocument = (maxBytes: number) =>
  Schema.Unknown.pipe(
    Schema.filter((value) => utf8Length(JSON.stringify(value) ?? "") <= maxBytes, {
      message: () => `must be at most ${maxBytes} bytes as JSON`
    })
  ).annotations({ jsonSchema: { description: `Any JSON, at most ${maxBytes} bytes serialised` } })

/** Limits by meaning: every string field of a request body uses one of these (or its own bound). */
export const Text = {
  /** Ids, keys, SIDs, slugs, enum-like codes. */
  Id: BoundedString(128),
  /** Phone numbers and SIP addresses. */
  Phone: BoundedString(64),
  /** Names, labels, titles, short reasons. */
  Name: BoundedString(200),
  /** URLs. */
  Url: BoundedString(2_048),
  /** A sentence or a paragraph: notes, greetings, summaries, messages. */
  Short: BoundedString(4_000),
  /** Long free text: agent instructions, transcripts. */
  Long: BoundedString(100_000)
} as const
