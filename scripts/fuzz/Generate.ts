/**
 * Values from the service's own OpenAPI document: a random instance of a JSON schema, often
 * valid and sometimes bent (wrong type, missing field, extreme value), driven by a seeded PRNG
 * so a failing run can be replayed with the same FUZZ_SEED.
 */

export type Json = null | boolean | number | string | Array<Json> | { [key: string]: Json }
export type JsonSchema = { readonly [key: string]: any }

export const prng = (seed: number) => {
  let state = seed >>> 0 || 1
  const next = () => {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    return (state >>> 0) / 4_294_967_296
  }
  return {
    next,
    int: (max: number) => Math.floor(next() * max),
    chance: (p: number) => next() < p,
    pick: <A>(items: ReadonlyArray<A>): A => items[Math.floor(next() * items.length)]!
  }
}
export type Prng = ReturnType<typeof prng>

/** Strings a field might get from a careless or hostile client. */
export const nastyStrings: ReadonlyArray<string> = [
  "",
  " ",
  "a\u0000b",
  "\uD800",
  "x\uDC00y",
  "x".repeat(5_000),
  "x".repeat(120_000),
  "'; drop table tenants; --",
  "../../etc/passwd",
  "<script>alert(1)</script>",
  "ƒüñķÿ ✓ 👍",
  "0x10",
  "1e309",
  "-1",
  "null",
  "00000000-0000-0000-0000-000000000000"
]

export const nastyNumbers: ReadonlyArray<Json> = [0, -1, 1.5, 2 ** 53 + 1, -(2 ** 63), 1e308, "12", null, true]

const resolve = (doc: JsonSchema, schema: JsonSchema | undefined): JsonSchema => {
  let current: JsonSchema = schema ?? {}
  for (let i = 0; i < 10 && typeof current.$ref === "string"; i++) {
    const path = (current.$ref as string).replace(/^#\//, "").split("/")
    current = path.reduce((node: any, key) => node?.[key], doc) ?? {}
  }
  return current
}

const typeOf = (schema: JsonSchema): string | undefined => {
  if (Array.isArray(schema.type)) return schema.type.find((t: string) => t !== "null") ?? "null"
  return schema.type
}

/** A value for `schema`: valid most of the time (`bend` is the chance of a wrong one per node). */
export const generate = (doc: JsonSchema, raw: JsonSchema | undefined, rng: Prng, bend: number, depth = 0): Json => {
  const schema = resolve(doc, raw)
  if (depth > 6) return null
  if (rng.chance(bend)) {
    return rng.pick<Json>([rng.pick(nastyStrings), rng.pick(nastyNumbers), [], {}, null])
  }
  const options = schema.anyOf ?? schema.oneOf
  if (Array.isArray(options) && options.length > 0) return generate(doc, rng.pick(options), rng, bend, depth + 1)
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) return generate(doc, schema.allOf[0], rng, bend, depth + 1)
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return rng.pick(schema.enum)
  if (schema.const !== undefined) return schema.const
  switch (typeOf(schema)) {
    case "object":
    case undefined: {
      if (schema.properties === undefined && typeOf(schema) === undefined) return rng.pick<Json>(["x", 1, true, { a: 1 }])
      const out: { [key: string]: Json } = {}
      const required = new Set<string>(schema.required ?? [])
      for (const [key, property] of Object.entries<JsonSchema>(schema.properties ?? {})) {
        if (required.has(key) ? !rng.chance(bend / 2) : rng.chance(0.5)) {
          out[key] = generate(doc, property, rng, bend, depth + 1)
        }
      }
      return out
    }
    case "array":
      return Array.from({ length: rng.int(4) }, () => generate(doc, schema.items, rng, bend, depth + 1))
    case "integer":
      return rng.chance(0.8) ? rng.int(100) : (rng.pick(nastyNumbers) as Json)
    case "number":
      return rng.chance(0.8) ? rng.next() * 100 : (rng.pick(nastyNumbers) as Json)
    case "boolean":
      return rng.chance(0.5)
    case "null":
      return null
    case "string":
      return stringFor(schema, rng)
    default:
      return null
  }
}

const stringFor = (schema: JsonSchema, rng: Prng): string => {
  switch (schema.format) {
    case "uuid":
      return "7d4f8a2e-4b1c-4c9e-9f00-" + String(rng.int(1e12)).padStart(12, "0")
    case "date-time":
      return new Date(Date.UTC(2026, rng.int(12), 1 + rng.int(28))).toISOString()
    case "email":
      return `fuzz${rng.int(1000)}@example.com`
    case "uri":
      return `https://example.com/${rng.int(1000)}`
  }
  return rng.chance(0.85) ? `fuzz-${rng.int(100_000)}` : rng.pick(nastyStrings)
}
