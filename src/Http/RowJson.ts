import type { Schema } from "effect"
import type { RowValues } from "../Database/HotStatement.js"
import { isoOfTimestamptz } from "../Database/TimestampText.js"
import type { JsonBytes } from "./JsonBytes.js"

/**
 * How a wire field's column is selected and written as JSON:
 * - `text`: a text or uuid column, written as a JSON string;
 * - `int`, `boolean`: written as they are;
 * - `timestamp`: selected as `col::text` (a UTC session's text) and written as Date#toISOString
 *   writes it, a JSON string (Database/TimestampText.ts: cheaper here than `ssv_iso`'s to_char in
 *   PostgreSQL; on a list page the text goes into the body's bytes rearranged, Http/JsonBytes.ts);
 * - `jsonb`: selected as `col::text` and written without being parsed (Http/JsonbText.ts);
 * - `array`: a `text[]` of the wire's strings selected as `array_to_json(array_remove(col, null))::text`,
 *   which is what JSON.stringify writes for the array `pg` would parse (no spaces; strings escaped
 *   alike), written as it is; a NULL element is no string (the spec's items are strings): left out;
 * - a `JsonbWriter`: a jsonb column selected as `col::text` whose wire schema reads the value
 *   (Http/JsonbEntries.ts), written by its own writer;
 * - a `SelectedText`: text computed from the row in the select list, written as `text`.
 */
export type ColumnJson = "text" | "int" | "boolean" | "timestamp" | "jsonb" | "array" | JsonbWriter | SelectedText

/**
 * Writes a jsonb column's text as its wire schema would encode the parsed value; false, with
 * nothing said about what it wrote, when only the schema can tell (a value it would refuse or
 * rewrite): the caller then takes the schema path.
 */
export interface JsonbWriter {
  readonly write: (out: JsonBytes, text: string) => boolean
}

/**
 * A text field the wire shows otherwise than it is stored (e.g. a stored value the spec's enum
 * lacks, shown as one it has): `expression as name` in the select list, so both the fast
 * writer and the schema path read the wire's value.
 */
export interface SelectedText {
  readonly selectedAs: string
}

/** A column kind for every field of a wire schema: the field names are the column names. */
export type Columns<Fields extends Schema.Struct.Fields> = { readonly [K in keyof Fields]: ColumnJson }

/** A row of such a select list, as `pg` returns it (null for SQL NULL). */
export type ColumnRow<Fields extends Schema.Struct.Fields> = { readonly [K in keyof Fields]: unknown }

type Write = (out: JsonBytes, value: unknown) => boolean

/** Each kind of column written as bytes (Http/JsonBytes.ts). */
const byteWriters: Record<Extract<ColumnJson, string>, Write> = {
  text: (out, value) => (out.string(value as string), true),
  timestamp: (out, value) => (out.timestamp(value as string), true),
  int: (out, value) => (out.ascii(String(value)), true),
  boolean: (out, value) => (out.ascii(value === true ? "true" : "false"), true),
  jsonb: (out, value) => (out.jsonb(value as string), true),
  array: (out, value) => (out.raw(value as string), true)
}

const writerOf = (kind: ColumnJson): Write =>
  typeof kind === "string" ? byteWriters[kind] : "selectedAs" in kind ? byteWriters.text : (out, value) => kind.write(out, value as string)

const selected = (name: string, kind: ColumnJson) =>
  typeof kind !== "string" && "selectedAs" in kind
    ? `${kind.selectedAs} as ${name}`
    : kind === "timestamp" || kind === "jsonb" || typeof kind !== "string"
    ? `${name}::text as ${name}`
    : kind === "array"
    ? `array_to_json(array_remove(${name}, null))::text as ${name}`
    : name

/**
 * A column's value as `pg` parses it in a `select *` (timestamps as Database/Client.ts's ISO
 * text, jsonb and arrays parsed): the selected text is the type's text output, which `pg` parses.
 */
const parsed = (kind: ColumnJson, value: unknown): unknown =>
  value === null || value === undefined
    ? value
    : kind === "timestamp"
    ? isoOfTimestamptz(value as string)
    : kind === "text" || kind === "int" || kind === "boolean" || (typeof kind !== "string" && "selectedAs" in kind)
    ? value
    : JSON.parse(value as string)

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
  const writeBytes = names.map((name) => writerOf(columns[name]))
  const row = (out: JsonBytes, values: ColumnRow<Fields>) => {
    for (let k = 0; k < names.length; k++) {
      out.raw(prefixes[k]!)
      const value = values[names[k]!]
      if (value === null || value === undefined) out.ascii("null")
      else if (!writeBytes[k]!(out, value)) return false
    }
    out.ascii("}")
    return true
  }
  const rowOfValues = (out: JsonBytes, values: RowValues, first: number) => {
    for (let k = 0; k < names.length; k++) {
      out.raw(prefixes[k]!)
      const value = values[first + k]
      if (value === null || value === undefined) out.ascii("null")
      else writeBytes[k]!(out, value)
    }
    out.ascii("}")
  }
  const rowsOfValues = (out: JsonBytes, list: ReadonlyArray<RowValues>, first: number, end = list.length) => {
    out.ascii("[")
    for (let i = 0; i < end; i++) {
      if (i > 0) out.ascii(",")
      rowOfValues(out, list[i]!, first)
    }
    out.ascii("]")
  }

  return {
    /** The SQL select list (column names from the wire schema, so nothing is listed twice). */
    selectList: names.map((name) => selected(name, columns[name])).join(", "),
    /**
     * Writes `list[0..end)` as one JSON array (a list page's items; their columns have no
     * `JsonbWriter`), each row an array (Database/HotStatement.ts `values`) whose select list has
     * this one at `first` (columns before it are the statement's own, e.g. a count).
     */
    rowsOfValues,
    /** Where a field's value is in such an array, for a list at 0. */
    position: (name: keyof Fields & string): number => names.indexOf(name),
    /** Writes one row as a JSON object; false when a `JsonbWriter` left it to the schema path. */
    row,
    /** The row's values as a `select *` gives them to the wire schema (the schema path). */
    parsedRow: (values: ColumnRow<Fields>): Record<string, unknown> =>
      Object.fromEntries(names.map((name) => [name, parsed(columns[name], values[name])]))
  } as const
}
