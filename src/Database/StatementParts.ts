import type * as Statement from "@effect/sql/Statement"
import { composed, piece } from "./Piece.js"

/**
 * One part of a statement made of data-modifying CTEs (`with name as (statement), ...`): a
 * module's own SQL, composed by the writer that needs several modules' rows to commit
 * together in one round trip (CallRecords.recordCompletedCall). A part reads the parts
 * before it by name. Parameters in an `insert ... select` list are not typed by the target
 * column: a part casts every non-text value.
 */
export interface StatementPart {
  readonly name: string
  readonly statement: Statement.Fragment
  /** A NOTIFY sent (at commit) when this part returned at least one row. */
  readonly wakes?: { readonly channel: string; readonly payload: string }
}

const identifier = (value: string): Statement.Identifier => ({ _tag: "Identifier", value })

/** The NOTIFY `wakes` asks for, when the part `name` returned at least one row. */
const wake = (name: string, wakes: { readonly channel: string; readonly payload: string }) =>
  // A SELECT in a WITH runs only if referenced: each wake is a scalar subquery of the final select.
  piece`(select count(pg_notify(${wakes.channel}, ${wakes.payload})) from ${identifier(name)})`

/**
 * The CTE list (`with ... `) of `parts`, in order, and an expression that sends the NOTIFYs they
 * ask for: `with "a" as (...),\n"b" as (...)` and `(select count(pg_notify($n, $m)) from "a") + ...`
 * (or `0`), as `sql.join` of `sql` templates would write them. Each is one piece (Piece.ts) that
 * holds the parts as they are: nothing is copied.
 */
export const composeParts = (parts: ReadonlyArray<StatementPart>) => compose(parts, undefined)

/**
 * The whole statement `with <parts> <select><wakes><after>` as one piece (`select` and `after` are
 * SQL text around the wakes expression): for a writer that compiles it itself (StatementShapes,
 * its text kept per shape) and runs the text with its parameters.
 */
export const composeStatement = (parts: ReadonlyArray<StatementPart>, select: string, after: string): Statement.Fragment =>
  compose(parts, [select, after]).with

const compose = (parts: ReadonlyArray<StatementPart>, around: readonly [string, string] | undefined) => {
  const strings: Array<string> = ["with "]
  const values: Array<unknown> = []
  const wakeStrings: Array<string> = [""]
  const wakeValues: Array<unknown> = []
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    values.push(identifier(part.name), part.statement)
    strings.push(" as (", i === parts.length - 1 ? ")" : "),\n")
    if (part.wakes !== undefined) {
      if (wakeValues.length > 0) wakeStrings.push(" + ")
      wakeValues.push(wake(part.name, part.wakes))
    }
  }
  if (wakeValues.length > 0) wakeStrings.push("")
  else wakeStrings[0] = "0"
  const wakes = composed(wakeStrings, wakeValues)
  if (around !== undefined) {
    strings[strings.length - 1] += around[0]
    values.push(wakes)
    strings.push(around[1])
  }
  return { with: composed(strings, values), wakes }
}
