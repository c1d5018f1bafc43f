import type { Schema } from "effect"

/**
 * A JSON object of one SQL expression per field of a wire schema, in the schema's field order:
 * the order its encoder (and JSON.stringify) writes them in. `row_to_json` of a row of those
 * columns, so the text has no spaces (`json_build_object` writes `"k" : v, ...`, which
 * `compactJsonb` (Http/JsonbText.ts) would have to rewrite, a string per space); `json`, not
 * `jsonb` (which would reorder the keys).
 */
export const jsonObject = <Fields extends Schema.Struct.Fields>(
  fields: Fields,
  expressions: { readonly [K in keyof Fields]: string }
) => {
  const columns = Object.keys(fields).map((name) => `${expressions[name]} as "${name}"`).join(", ")
  return `(select row_to_json(json_fields) from (select ${columns}) json_fields)`
}

/**
 * A JSON array of `element` (a `json` expression) over the rows aggregated, in `order`, without
 * spaces between the elements (`json_agg` writes `, `); `[]` when there are none.
 */
export const jsonArray = (element: string, order: string) =>
  `coalesce('[' || string_agg((${element})::text, ',' order by ${order}) || ']', '[]')::json`
