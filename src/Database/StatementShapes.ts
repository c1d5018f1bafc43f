import type * as Statement from "@effect/sql/Statement"

/** What `compile` gives: the text and its parameters in placeholder order. */
export type Compiled = readonly [text: string, params: ReadonlyArray<unknown>]

const LITERAL = 0
const IDENTIFIER = 1
const PARAMETER = 2

/** A statement's text, and what each of its segments was (kind; a literal's text, an identifier's name). */
interface Shape {
  readonly kinds: ReadonlyArray<number>
  readonly values: ReadonlyArray<string | undefined>
  readonly text: string
}

/** Shapes kept per compiler; past this the cache starts again (a shape per statement site is a few dozen). */
const MAX_SHAPES = 64


/**
 * `statement.compile()` for statements that are only literal text, identifiers and parameters
 * (what the `sql` template makes), with the text built once per shape. A shape is the
 * statement's segments but for its parameter values: while they match the last statement of
 * that many segments, its text comes back and only the parameters are collected, in order.
 * @effect/sql's compile concatenates every segment each time, and the end-of-call record is
 * ~500 segments, ~12 KB of text, per call. Values are still bound as parameters, never put into
 * the text. Any other segment (helpers, custom values, literals with parameters), or a client
 * whose placeholders are not PostgreSQL's `$n`, compiles the standard way.
 */
export const makeShapeCompiler = (sql: Statement.Constructor): ((statement: Statement.Fragment) => Compiled) => {
  // A fragment that is not a statement (StatementParts' flat ones) is compiled as a statement of it.
  const standard = (fragment: Statement.Fragment): Compiled =>
    ("compile" in fragment && typeof fragment.compile === "function" ? fragment as Statement.Statement<unknown> : sql`${fragment}`).compile()
  // Never run: how this client writes placeholders.
  if (sql`${0}${0}`.compile()[0] !== "$1$2") return standard
  const shapes = new Map<number, Shape>()

  const build = (segments: ReadonlyArray<Statement.Segment>): Shape | undefined => {
    const kinds: Array<number> = []
    const values: Array<string | undefined> = []
    let text = ""
    let placeholders = 0
    for (const segment of segments) {
      switch (segment._tag) {
        case "Literal":
          kinds.push(LITERAL)
          values.push(segment.value)
          text += segment.value
          break
        case "Identifier":
          kinds.push(IDENTIFIER)
          values.push(segment.value)
          // Quoted by the client, as inside any statement.
          text += sql`${sql(segment.value)}`.compile()[0]
          break
        case "Parameter":
          kinds.push(PARAMETER)
          values.push(undefined)
          text += `$${++placeholders}`
          break
        default:
          return undefined
      }
    }
    return { kinds, values, text }
  }

  return (statement) => {
    const segments = statement.segments
    const shape = shapes.get(segments.length)
    const params: Array<unknown> = []
    let matches = shape !== undefined
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!
      switch (segment._tag) {
        case "Literal":
          if (segment.params !== undefined && segment.params.length > 0) return standard(statement)
          if (matches && (shape!.kinds[i] !== LITERAL || shape!.values[i] !== segment.value)) matches = false
          break
        case "Identifier":
          if (matches && (shape!.kinds[i] !== IDENTIFIER || shape!.values[i] !== segment.value)) matches = false
          break
        case "Parameter":
          if (matches && shape!.kinds[i] !== PARAMETER) matches = false
          params.push(segment.value)
          break
        default:
          return standard(statement)
      }
    }
    // Same number of segments (the map's key), each of the same kind and text: the same statement text.
    if (matches) return [shape!.text, params]
    const built = build(segments)
    if (built === undefined) return standard(statement)
    if (shapes.size >= MAX_SHAPES) shapes.clear()
    shapes.set(segments.length, built)
    return [built.text, params]
  }
}
