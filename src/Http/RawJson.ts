import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Schema } from "effect"
import { type JsonBytes, jsonBytes } from "./JsonBytes.js"

/**
 * A JSON body handed to node as a string: node encodes it straight into the socket write,
 * where `HttpServerResponse.text` first copies it into a new Uint8Array with TextEncoder (a
 * third of the row path's CPU for a 70 KB page in the profile). Same headers: content-type and
 * content-length (the byte length, which also flattens the string once).
 */
export const jsonText = (body: string) =>
  HttpServerResponse.raw(body, { contentType: "application/json", contentLength: Buffer.byteLength(body) })

/**
 * A list response whose items are written as JSON bytes (Http/RowJson.ts), with the envelope's
 * fields in the response schema's order, as HttpApi's encoder and JSON.stringify would write
 * the whole (optional fields left undefined are omitted, as there), into one buffer
 * (Http/JsonBytes.ts): no body string on the heap. The handler returns it as the response;
 * the declared schema (OpenAPI, client) is unchanged and test/row-json.test.ts compares these
 * bodies with the schema-encoded ones byte for byte. Same headers as `jsonText`.
 */
export const jsonList = <Fields extends Schema.Struct.Fields, K extends keyof Fields & string>(fields: Fields, key: K) => {
  const names = Object.keys(fields)
  const firsts = names.map((name) => `{${JSON.stringify(name)}:`)
  const laters = names.map((name) => `,${JSON.stringify(name)}:`)
  return (envelope: Omit<Schema.Struct.Encoded<Fields>, K>, items: (out: JsonBytes) => void) => {
    const values: Record<string, unknown> = envelope
    const body = jsonBytes((out) => {
      let first = true
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!
        if (name !== key && values[name] === undefined) continue
        out.raw(first ? firsts[i]! : laters[i]!)
        first = false
        if (name === key) items(out)
        else out.raw(JSON.stringify(values[name]))
      }
      out.ascii(first ? "{}" : "}")
    })
    return HttpServerResponse.uint8Array(body, { contentType: "application/json" })
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
