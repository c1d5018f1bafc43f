import { generate, type Json, type JsonSchema, type Prng } from "./Generate.js"

export interface Operation {
  readonly method: string
  readonly path: string
  readonly parameters: ReadonlyArray<{ readonly name: string; readonly in: string; readonly schema?: JsonSchema }>
  readonly body: JsonSchema | undefined
}

export interface FuzzRequest {
  readonly label: string
  /** The operation's path template, as in the document. */
  readonly template: string
  readonly method: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly body: string | undefined
}

export interface Credentials {
  readonly admin: Record<string, string>
  readonly tenant: Record<string, string>
  readonly tenantId: string
}

const METHODS = ["get", "post", "put", "patch", "delete"]

/** Every operation the service's own document lists (its implemented API). */
export const operationsOf = (doc: JsonSchema): Array<Operation> =>
  Object.entries<JsonSchema>(doc.paths ?? {}).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method] !== undefined).map((method) => {
      const op = item[method]
      return {
        method: method.toUpperCase(),
        path,
        parameters: [...(item.parameters ?? []), ...(op.parameters ?? [])],
        body: op.requestBody?.content?.["application/json"]?.schema ??
          op.requestBody?.content?.["application/x-www-form-urlencoded"]?.schema
      }
    })
  )

const hostileIds = ["x".repeat(10_240), "a%00b", "%ED%A0%80", "..%2F..%2Fadmin", "%F0%9F%91%8D", "00000000-0000-0000-0000-000000000000"]

const pathValue = (name: string, credentials: Credentials, rng: Prng): string => {
  if (rng.chance(0.15)) return rng.pick(hostileIds)
  if (name === "tenant_id") return credentials.tenantId
  if (name.endsWith("_id") || name === "id") return "7d4f8a2e-4b1c-4c9e-9f00-" + String(rng.int(1e12)).padStart(12, "0")
  return encodeURIComponent(`fuzz-${rng.int(1000)}`)
}

/** Percent-encoding that writes a lone surrogate as its (invalid) UTF-8 bytes instead of throwing. */
const safeEncode = (text: string) => {
  try {
    return encodeURIComponent(text)
  } catch {
    return "%ED%A0%80"
  }
}

const queryValue = (schema: JsonSchema | undefined, doc: JsonSchema, rng: Prng): string => {
  if (rng.chance(0.2)) {
    return rng.pick(["0x10", "1e309", "-1", "99999999999999999999", "%00", "%ED%A0%80", "x".repeat(5_000), "", "1.5"])
  }
  const value = generate(doc, schema, rng, 0)
  return safeEncode(typeof value === "string" ? value : JSON.stringify(value))
}

const authFor = (path: string, credentials: Credentials, rng: Prng): Record<string, string> => {
  if (rng.chance(0.1)) {
    return rng.pick<Record<string, string>>([{}, { authorization: "Bearer wrong-token-0123456789" }, { "x-admin-key": "nope" }])
  }
  return path.includes("/admin") ? credentials.admin : credentials.tenant
}

const deep = (depth: number) => "[".repeat(depth) + "]".repeat(depth)

/** A hostile body for any operation that takes one (issue 7's table and friends). */
const hostileBody = (rng: Prng): { body: string; type: string; label: string } =>
  rng.pick([
    { body: deep(10_000), type: "application/json", label: "nesting 10000" },
    { body: `{"a":${"{\"a\":".repeat(3_000)}1${"}".repeat(3_001)}`, type: "application/json", label: "object 3000 deep" },
    { body: "", type: "multipart/form-data; boundary=x", label: "empty multipart" },
    { body: "--x\r\ncontent-disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--", type: "multipart/form-data; boundary=x", label: "multipart" },
    { body: "{}", type: "application/octet-stream", label: "octet-stream" },
    { body: "x".repeat(1_200_000), type: "application/json", label: "1.2 MB body" },
    { body: `{"s":"${"x".repeat(900_000)}"}`, type: "application/json", label: "900 KB string" },
    { body: "", type: "application/json", label: "empty body" },
    { body: "{", type: "application/json", label: "truncated JSON" },
    { body: "{\"a\":1e400,\"b\":-1e400,\"c\":123456789012345678901234567890}", type: "application/json", label: "huge numbers" },
    { body: "{\"a\":\"\\u0000\",\"b\":\"\\ud800\"}", type: "application/json", label: "NUL and surrogate" },
    { body: "null", type: "application/json", label: "null body" },
    { body: "[1,2,3]", type: "application/json", label: "array body" },
    { body: "a=%00&b=%ED%A0%80", type: "application/x-www-form-urlencoded", label: "form NUL" }
  ])

/** One request for `op`: from its schemas, with a share of bent values and hostile bodies. */
export const requestFor = (op: Operation, doc: JsonSchema, credentials: Credentials, rng: Prng): FuzzRequest => {
  let label = "generated"
  let path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => pathValue(name, credentials, rng))
  const query = op.parameters
    .filter((p) => p.in === "query" && rng.chance(0.6))
    .map((p) => `${encodeURIComponent(p.name)}=${queryValue(p.schema, doc, rng)}`)
  if (query.length > 0) path += `?${query.join("&")}`
  const headers: Record<string, string> = { ...authFor(op.path, credentials, rng) }
  let body: string | undefined
  if (op.method !== "GET" && op.method !== "DELETE") {
    if (rng.chance(0.3)) {
      const hostile = hostileBody(rng)
      headers["content-type"] = hostile.type
      body = hostile.body
      label = hostile.label
    } else {
      const value: Json = op.body === undefined ? {} : generate(doc, op.body, rng, rng.chance(0.5) ? 0 : 0.15)
      headers["content-type"] = "application/json"
      body = JSON.stringify(value)
    }
  }
  return { label, template: op.path, method: op.method, path, headers, body }
}

