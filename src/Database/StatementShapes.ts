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
/** Shapes kept per segment count: statements of one service with as many segments do not take turns. */
const SHAPES_PER_COUNT = 4


/**
 * `statement.compile()` for statements that are only literal text, identifiers and parameters
 * (what the `sql` template makes), with the text built once per shape. A shape is the
 * statement's segments but for its parameter values: while they match one of the last few statements of
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
  const shapes = new Map<number, Array<Shape>>()
  let kept = 0

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

  /** The parameters of `segments` if they have `shape`'s text; "standard" if a segment needs @effect/sql's compile. */
  const paramsIn = (segments: ReadonlyArray<Statement.Segment>, shape: Shape | undefined): Array<unknown> | "standard" | undefined => {
    const params: Array<unknown> = []
    let matches = shape !== undefined
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!
      switch (segment._tag) {
        case "Literal":
          if (segment.params !== undefined && segment.params.length > 0) return "standard"
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
          return "standard"
      }
    }
    // Same number of segments, each of the same kind and text: the same statement text.
    return matches || shape === undefined ? params : undefined
  }

  return (statement) => {
    const segments = statement.segments
    const candidates = shapes.get(segments.length)
    for (const shape of candidates ?? []) {
      const params = paramsIn(segments, shape)
      if (params === "standard") return standard(statement)
      if (params !== undefined) return [shape.text, params]
    }
    const params = paramsIn(segments, undefined)
    if (params === "standard" || params === undefined) return standard(statement)
    const built = build(segments)
    if (built === undefined) return standard(statement)
    if (kept >= MAX_SHAPES) {
      shapes.clear()
      kept = 0
    }
    const list = shapes.get(segments.length) ?? []
    // The newest first; the oldest of a full list makes room.
    list.unshift(built)
    if (list.length > SHAPES_PER_COUNT) list.pop()
    else kept++
    shapes.set(segments.length, list)
    return [built.text, params]
  }
}
