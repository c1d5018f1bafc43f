import * as Statement from "@effect/sql/Statement"

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

const literal = (value: string): Statement.Literal => ({ _tag: "Literal", value })
const identifier = (value: string): Statement.Identifier => ({ _tag: "Identifier", value })
const parameter = (value: unknown): Statement.Parameter => ({ _tag: "Parameter", value })

/** A fragment of `segments` as they are (the `sql` template copies a fragment's segments into the statement using it). */
const fragment = (segments: ReadonlyArray<Statement.Segment>): Statement.Fragment => ({
  [Statement.FragmentId]: (_: never) => Statement.FragmentId,
  segments
})

const WITH = literal("with ")
const AS = literal(" as (")
const CLOSE = literal(")")
const CLOSE_NEXT = literal("),\n")
const NOTIFY = literal("(select count(pg_notify(")
const COMMA = literal(", ")
const FROM = literal(")) from ")
const PLUS = literal(" + ")
const ZERO = literal("0")

/**
 * The CTE list (`with ... `) of `parts`, in order, and an expression that sends the NOTIFYs they
 * ask for. Each is ONE flat fragment: the text is `with "a" as (...),\n"b" as (...)` and
 * `(select count(pg_notify($n, $m)) from "a") + ...` (or `0`), as `sql.join` of `sql` templates
 * would write it, but each part's segments are copied once, not once per nesting level.
 */
export const composeParts = (parts: ReadonlyArray<StatementPart>) => compose(parts, undefined)

/**
 * The whole statement `with <parts> <select><wakes><after>` as ONE flat fragment (`select` and
 * `after` are SQL text around the wakes expression): for a writer that compiles it itself
 * (StatementShapes) and runs the text with its parameters, so its segments are never copied into
 * a `sql` template.
 */
export const composeStatement = (parts: ReadonlyArray<StatementPart>, select: string, after: string): Statement.Fragment =>
  compose(parts, [select, after]).with

const compose = (parts: ReadonlyArray<StatementPart>, around: readonly [string, string] | undefined) => {
  // Sized once: the record's list is ~500 segments, and a growing array reallocates as it fills.
  let size = 1
  let woken = 0
  for (const part of parts) {
    size += part.statement.segments.length + 3
    if (part.wakes !== undefined) woken++
  }
  // Each wake is 7 segments, with " + " between them; none is the literal `0`.
  const wakesSize = woken === 0 ? 1 : 8 * woken - 1
  const ctes = new Array<Statement.Segment>(around === undefined ? size : size + wakesSize + 2)
  const wakes = new Array<Statement.Segment>(wakesSize)
  let n = 0
  let w = 0
  ctes[n++] = WITH
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    ctes[n++] = identifier(part.name)
    ctes[n++] = AS
    for (const segment of part.statement.segments) ctes[n++] = segment
    ctes[n++] = i === parts.length - 1 ? CLOSE : CLOSE_NEXT
    // A SELECT in a WITH runs only if referenced: each wake is a scalar subquery of the final select.
    if (part.wakes !== undefined) {
      if (w > 0) wakes[w++] = PLUS
      wakes[w++] = NOTIFY
      wakes[w++] = parameter(part.wakes.channel)
      wakes[w++] = COMMA
      wakes[w++] = parameter(part.wakes.payload)
      wakes[w++] = FROM
      wakes[w++] = identifier(part.name)
      wakes[w++] = CLOSE
    }
  }
  if (woken === 0) wakes[w++] = ZERO
  if (around !== undefined) {
    ctes[n++] = literal(around[0])
    for (const segment of wakes) ctes[n++] = segment
    ctes[n++] = literal(around[1])
  }
  return { with: fragment(ctes), wakes: fragment(wakes) }
}
