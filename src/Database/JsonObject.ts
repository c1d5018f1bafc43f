import type { Schema } from "effect"

/**
 * A `json_build_object` of one SQL expression per field of a wire schema, in the schema's field
 * order: the order its encoder (and JSON.stringify) writes them in. The result is `json`, not
 * `jsonb` (which would reorder the keys); `compactJsonb` (Http/JsonbText.ts) makes its text
 * what JSON.stringify writes.
 */
export const jsonObject = <Fields extends Schema.Struct.Fields>(
  fields: Fields,
  expressions: { readonly [K in keyof Fields]: string }
) => `json_build_object(${Object.keys(fields).map((name) => `'${name}', ${expressions[name]}`).join(", ")})`
