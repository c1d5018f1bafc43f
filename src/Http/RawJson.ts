import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import { Effect, Schema } from "effect"

/**
 * A list response whose items are already JSON text (rendered by PostgreSQL from the same
 * columns the wire schema names), wrapped in an envelope typed by the response schema's
 * encoded side. The handler returns it as the response, so the rows are neither parsed into
 * objects, decoded, re-encoded nor stringified again; the declared schema (OpenAPI, client)
 * is unchanged and tests validate these bodies against the spec.
 */
export const jsonWithItems = <Encoded extends object, K extends keyof Encoded & string>(
  envelope: Omit<Encoded, K>,
  key: K,
  items: ReadonlyArray<string>
) => {
  const head = JSON.stringify(envelope)
  const list = `"${key}":[${items.join(",")}]`
  const body = head === "{}" ? `{${list}}` : `${head.slice(0, -1)},${list}}`
  return HttpServerResponse.text(body, { contentType: "application/json" })
}

/** The same, with the items already one JSON array (text), e.g. PostgreSQL's `json_agg`. */
export const jsonWithItemArray = <Encoded extends object, K extends keyof Encoded & string>(
  envelope: Omit<Encoded, K>,
  key: K,
  array: string
) => {
  const head = JSON.stringify(envelope)
  const list = `"${key}":${array}`
  const body = head === "{}" ? `{${list}}` : `${head.slice(0, -1)},${list}}`
  return HttpServerResponse.text(body, { contentType: "application/json" })
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
