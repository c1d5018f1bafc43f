import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Schema } from "effect"
import { type JsonBytes, jsonBytes, jsonBytesUnlessRefused } from "./JsonBytes.js"

/**
 * A JSON body handed to node as a string: node encodes it straight into the socket write,
 * where `HttpServerResponse.text` first copies it into a new Uint8Array with TextEncoder (a
 * third of the row path's CPU for a 70 KB page in the profile). Same headers: content-type and
 * content-length (the byte length, which also flattens the string once).
 */
export const jsonText = (body: string) =>
  HttpServerResponse.raw(body, { contentType: "application/json", contentLength: Buffer.byteLength(body) })

/**
 * Writes a response object whose field `key` is written as JSON bytes by the caller, with the
 * other fields (the envelope's) in the response schema's order, as HttpApi's encoder and
 * JSON.stringify would write the whole (optional fields left undefined are omitted, as there).
 * False when the caller's writer gave up (nothing written is kept).
 */
const envelopeWriter = <Fields extends Schema.Struct.Fields, K extends keyof Fields & string>(fields: Fields, key: K) => {
  const names = Object.keys(fields)
  const firsts = names.map((name) => `{${JSON.stringify(name)}:`)
  const laters = names.map((name) => `,${JSON.stringify(name)}:`)
  return (out: JsonBytes, envelope: Omit<Schema.Struct.Encoded<Fields>, K>, value: (out: JsonBytes) => boolean) => {
    const values: Record<string, unknown> = envelope
    let first = true
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!
      if (name !== key && values[name] === undefined) continue
      out.raw(first ? firsts[i]! : laters[i]!)
      first = false
      if (name !== key) out.raw(JSON.stringify(values[name]))
      else if (!value(out)) return false
    }
    out.ascii(first ? "{}" : "}")
    return true
  }
}

/** A JSON body of bytes as the response, with HttpApi's success headers. */
export const jsonBody = (body: Uint8Array) => HttpServerResponse.uint8Array(body, { contentType: "application/json" })

/**
 * A list response whose items are written as JSON bytes (Http/RowJson.ts), in one buffer
 * (Http/JsonBytes.ts): no body string on the heap. The handler returns it as the response;
 * the declared schema (OpenAPI, client) is unchanged and test/row-json.test.ts compares these
 * bodies with the schema-encoded ones byte for byte.
 */
export const jsonList = <Fields extends Schema.Struct.Fields, K extends keyof Fields & string>(fields: Fields, key: K) => {
  const write = envelopeWriter(fields, key)
  return (envelope: Omit<Schema.Struct.Encoded<Fields>, K>, items: (out: JsonBytes) => void) =>
    jsonBody(jsonBytes((out) => write(out, envelope, (o) => (items(o), true))))
}

/**
 * `jsonList` for a response holding one object (a detail) whose writer may leave it to the
 * schema path: undefined then.
 */
export const jsonEnvelope = <Fields extends Schema.Struct.Fields, K extends keyof Fields & string>(fields: Fields, key: K) => {
  const write = envelopeWriter(fields, key)
  return (envelope: Omit<Schema.Struct.Encoded<Fields>, K>, value: (out: JsonBytes) => boolean) => {
    const body = jsonBytesUnlessRefused((out) => write(out, envelope, value))
    return body === undefined ? undefined : jsonBody(body)
  }
}

/**
 * An object of a wire schema whose field values are already JSON text, written in the schema's
 * field order, as its encoder and JSON.stringify would write the whole.
 */
export const jsonFields = <Fields extends Schema.Struct.Fields>(fields: Fields) => {
  const prefixes = Object.keys(fields).map((name, i) => [name, `${i === 0 ? "{" : ","}${JSON.stringify(name)}:`] as const)
  return (values: { readonly [K in keyof Fields]: string }) => {
    let body = ""
    for (const [name, prefix] of prefixes) body += prefix + values[name]
    return `${body}}`
  }
}

/**
 * A tenant's report response (`ok` and `tenant` among its fields) whose other field values are
 * already JSON text (written by PostgreSQL in the wire schemas' order), in the schema's order.
 */
export const tenantReport = <Fields extends Schema.Struct.Fields>(fields: Fields) => {
  const write = jsonFields(fields)
  return (tenantId: string, values: { readonly [K in Exclude<keyof Fields, "ok" | "tenant">]: string }) =>
    jsonText(write({ ...values, ok: "true", tenant: JSON.stringify(tenantId) } as { readonly [K in keyof Fields]: string }))
}

/**
 * The response HttpApi writes for a success of `schema` (status 200, `application/json`), with
 * the encoder compiled once. A handler that returns it skips HttpApi's own success encoding;
 * the hot-read routes (Http/HotReads.ts) answer with the same bytes.
 */
export const jsonEncoder = <A, I>(schema: Schema.Schema<A, I>) => {
  const encode = Schema.encode(schema)
  return (value: A) => Effect.map(Effect.orDie(encode(value)), (body) => HttpServerResponse.unsafeJson(body))
}
