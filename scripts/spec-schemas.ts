/**
 * Prints Effect Schema classes for components of spec/openapi.json, as a starting point
 * for a domain's Api.ts (wire names must match the spec exactly).
 *
 *   npx tsx scripts/spec-schemas.ts AgentVersion AgentVersionConfig ...
 */
import * as fs from "node:fs"

type Json = { [key: string]: any }
const spec: Json = JSON.parse(fs.readFileSync(new URL("../spec/openapi.json", import.meta.url), "utf8"))
const schemas: Json = spec.components.schemas

const base = (s: Json): string => {
  if (s.$ref) return s.$ref.split("/").pop()
  if (s.oneOf || s.anyOf) {
    const members = (s.oneOf ?? s.anyOf) as Array<Json>
    const nonNull = members.filter((m) => m.type !== "null")
    const inner = nonNull.length === 1 ? base(nonNull[0]!) : `Schema.Union(${nonNull.map(base).join(", ")})`
    return nonNull.length < members.length ? `Schema.NullOr(${inner})` : inner
  }
  if (s.enum) return `Schema.Literal(${s.enum.map((v: unknown) => JSON.stringify(v)).join(", ")})`
  const types: Array<string> = Array.isArray(s.type) ? s.type : s.type ? [s.type] : []
  const nullable = types.includes("null")
  const type = types.find((t) => t !== "null")
  let out: string
  switch (type) {
    case "string":
      out = s.format === "date-time" ? "Timestamp" : s.format === "uuid" ? "Uuid" : "Schema.String"
      break
    case "integer":
      out = s.minimum === 0 ? "NonNegativeInt" : "Int"
      break
    case "number":
      out = "Schema.Number"
      break
    case "boolean":
      out = "Schema.Boolean"
      break
    case "array":
      out = `Schema.Array(${base(s.items ?? {})})`
      break
    case "object":
      out = s.properties ? "Schema.Unknown /* inline object */" : `Schema.Record({ key: Schema.String, value: ${
        typeof s.additionalProperties === "object" ? base(s.additionalProperties) : "Schema.Unknown"
      } })`
      break
    default:
      out = "AnyJson"
  }
  return nullable ? `Schema.NullOr(${out})` : out
}

const field = (s: Json, required: boolean): string => {
  const inner = base(s)
  if (required) return inner
  const nullable = /^Schema\.NullOr\((.*)\)$/.exec(inner)
  if (nullable) return `optionalNullable(${nullable[1]})`
  return `Schema.optional(${inner})`
}

for (const name of process.argv.slice(2)) {
  const s = schemas[name]
  if (!s) {
    console.error(`// no component ${name}`)
    continue
  }
  if (!s.properties) {
    console.log(`export const ${name} = ${base(s)}.annotations({ identifier: "${name}" })\n`)
    continue
  }
  const required = new Set<string>(s.required ?? [])
  const lines = Object.entries(s.properties as Json).map(([key, value]) =>
    `  ${/^[a-z_][a-z0-9_]*$/i.test(key) ? key : JSON.stringify(key)}: ${field(value, required.has(key))}`
  )
  console.log(`export class ${name} extends Schema.Class<${name}>("${name}")({\n${lines.join(",\n")}\n}) {}\n`)
}
