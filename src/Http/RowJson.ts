import type { Schema } from "effect"
import type { JsonBytes } from "./JsonBytes.js"

/**
 * How a wire field's column is selected and written as JSON:
 * - `text`: a text or uuid column, written as a JSON string;
 * - `int`, `boolean`: written as they are;
 * - `timestamp`: selected as `col::text` (a UTC session's text) and written as Date#toISOString
 *   writes it, a JSON string (Database/TimestampText.ts: cheaper here than `ssv_iso`'s to_char in
 *   PostgreSQL; on a list page the text goes into the body's bytes rearranged, Http/JsonBytes.ts);
 * - `jsonb`: selected as `col::text` and written without being parsed (Http/JsonbText.ts);
 * - `array`: a `text[]` selected as `array_to_json(col)::text`, which is what JSON.stringify writes
 *   for the array `pg` would parse (no spaces; strings escaped alike), written as it is.
 */
export type ColumnJson = "text" | "int" | "boolean" | "timestamp" | "jsonb" | "array"

/** A column kind for every field of a wire schema: the field names are the column names. */
export type Columns<Fields extends Schema.Struct.Fields> = { readonly [K in keyof Fields]: ColumnJson }

/** A row of such a select list, as `pg` returns it (null for SQL NULL). */
export type ColumnRow<Fields extends Schema.Struct.Fields> = { readonly [K in keyof Fields]: unknown }

/** Each kind of column written as bytes (Http/JsonBytes.ts). */
const byteWriters: Record<ColumnJson, (out: JsonBytes, value: unknown) => void> = {
  text: (out, value) => out.string(value as string),
  timestamp: (out, value) => out.timestamp(value as string),
  int: (out, value) => out.ascii(String(value)),
  boolean: (out, value) => out.ascii(value === true ? "true" : "false"),
  jsonb: (out, value) => out.jsonb(value as string),
  array: (out, value) => out.raw(value as string)
}

const selected = (name: string, kind: ColumnJson) =>
  kind === "jsonb" || kind === "timestamp"
    ? `${name}::text as ${name}`
    : kind === "array"
    ? `array_to_json(${name})::text as ${name}`
    : name

/**
 * Rows of a wire schema read as columns and written as that schema's encoded JSON, field by
 * field in the schema's order, by writers chosen once: the same text `JSON.stringify` writes
 * for the schema-encoded value (test/row-json.test.ts compares them byte for byte), without
 * decoding each row into class instances and encoding it back. PostgreSQL only hands jsonb
 * over as text; rendering whole rows as JSON there cost it ~6x
 * the CPU of selecting the columns (bench/RESULTS.md, "Rows"), and replicas share it.
 */
export const rowJson = <Fields extends Schema.Struct.Fields>(fields: Fields, columns: Columns<Fields>) => {
  const names: ReadonlyArray<keyof Fields & string> = Object.keys(fields)
  const prefixes = names.map((name, i) => `${i === 0 ? "{" : ","}${JSON.stringify(name)}:`)
  const writeBytes = names.map((name) => byteWriters[columns[name]])
  const rows = (out: JsonBytes, list: ReadonlyArray<ColumnRow<Fields>>, end = list.length) => {
    out.ascii("[")
    for (let i = 0; i < end; i++) {
      if (i > 0) out.ascii(",")
      const values = list[i]!
      for (let k = 0; k < names.length; k++) {
        out.raw(prefixes[k]!)
        const value = values[names[k]!]
        if (value === null || value === undefined) out.ascii("null")
        else writeBytes[k]!(out, value)
      }
      out.ascii("}")
    }
    out.ascii("]")
  }

  return {
    /** The SQL select list (column names from the wire schema, so nothing is listed twice). */
    selectList: names.map((name) => selected(name, columns[name])).join(", "),
    /** Writes `list[0..end)` as one JSON array (a list page's items). */
    rows
  } as const
}
