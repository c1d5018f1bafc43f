import type { Schema } from "effect"
import { compactJsonb } from "./JsonbText.js"

/**
 * How a wire field's column is selected and written as JSON:
 * - `text`: a text or uuid column, written as a JSON string;
 * - `int`, `boolean`: written as they are;
 * - `timestamp`: selected as it is; the client's parser writes it as Date#toISOString does
 *   (Database/TimestampText.ts: cheaper there than `ssv_iso`'s to_char in PostgreSQL), a JSON string;
 * - `jsonb`: selected as `col::text` and written without being parsed (Http/JsonbText.ts);
 * - `array`: a value `pg` parsed (a `text[]`), written by JSON.stringify.
 */
export type ColumnJson = "text" | "int" | "boolean" | "timestamp" | "jsonb" | "array"

/** A column kind for every field of a wire schema: the field names are the column names. */
export type Columns<Fields extends Schema.Struct.Fields> = { readonly [K in keyof Fields]: ColumnJson }

/** A row of such a select list, as `pg` returns it (null for SQL NULL). */
export type ColumnRow<Fields extends Schema.Struct.Fields> = { readonly [K in keyof Fields]: unknown }

const writers: Record<ColumnJson, (value: unknown) => string> = {
  text: (value) => JSON.stringify(value),
  timestamp: (value) => JSON.stringify(value),
  int: (value) => String(value),
  boolean: (value) => (value === true ? "true" : "false"),
  jsonb: (value) => compactJsonb(value as string),
  array: (value) => JSON.stringify(value)
}

const selected = (name: string, kind: ColumnJson) =>
  kind === "jsonb" ? `${name}::text as ${name}` : name

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
  const write = names.map((name) => writers[columns[name]])
  // Without jsonb every writer writes what JSON.stringify writes for the value pg hands over
  // (strings, numbers: `int` columns come back as numbers, int8 through Database/Client.ts's
  // parser; booleans, text[]), and pg builds each row with the select list's keys in order:
  // then a whole page is JSON.stringify of the rows, one native pass with no per-field strings.
  const native = names.every((name) => columns[name] !== "jsonb")
  /** The page's rows are exactly the select list (one row shows it: pg gives every row the same keys). */
  const selectListRows = (rows: ReadonlyArray<ColumnRow<Fields>>) => {
    const keys = Object.keys(rows[0]!)
    return keys.length === names.length && keys.every((key, i) => key === names[i])
  }

  const row = (values: ColumnRow<Fields>) => {
    let json = ""
    for (let i = 0; i < names.length; i++) {
      const value = values[names[i]!]
      json += prefixes[i]! + (value === null || value === undefined ? "null" : write[i]!(value))
    }
    return `${json}}`
  }

  return {
    /** The SQL select list (column names from the wire schema, so nothing is listed twice). */
    selectList: names.map((name) => selected(name, columns[name])).join(", "),
    row,
    /** `rows[0..end)` as one JSON array. */
    array: (rows: ReadonlyArray<ColumnRow<Fields>>, end = rows.length) => {
      if (end === 0) return "[]"
      if (native && selectListRows(rows)) return JSON.stringify(end === rows.length ? rows : rows.slice(0, end))
      let json = "["
      for (let i = 0; i < end; i++) json += (i === 0 ? "" : ",") + row(rows[i]!)
      return `${json}]`
    }
  } as const
}
