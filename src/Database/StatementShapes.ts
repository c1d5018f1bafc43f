import * as Statement from "@effect/sql/Statement"
import { isHelper, Piece } from "./Piece.js"

/** What `compile` gives: the text and its parameters in placeholder order. */
export type Compiled = readonly [text: string, params: ReadonlyArray<unknown>]

/**
 * A statement's text, and its signature: what it is made of but for its parameter values, as the
 * walk below meets it (a template's strings array, a literal's text, an identifier's name, a marker).
 */
interface Shape {
  readonly signature: ReadonlyArray<unknown>
  readonly text: string
  readonly parameters: number
}

/** Shapes kept per compiler; past this the cache starts again (a shape per statement site is a few dozen). */
const MAX_SHAPES = 64
/** Shapes kept per key: statements of one service with the same key do not take turns. */
const SHAPES_PER_KEY = 4

// Markers in a signature: unique objects, so none equals a literal's text or a template's strings.
const PARAMETER = { marker: "parameter" }
const IDENTIFIER = { marker: "identifier" }
const FRAGMENT = { marker: "fragment" }
const END = { marker: "end" }
const COMPOSED = { marker: "composed" }

const OK = 0
const MISMATCH = 1
/** A segment only @effect/sql's compile knows (helpers, custom values, literals with parameters). */
const STANDARD = 2
type Status = typeof OK | typeof MISMATCH | typeof STANDARD

/**
 * One pass over a statement: collects its parameters in order and either compares what it meets
 * with a kept shape's signature (stopping at the first difference) or records the signature and
 * writes the text. Pieces (Piece.ts) are walked as they are; any other fragment by its segments.
 */
class Walk {
  readonly params: Array<unknown>
  readonly signature: Array<unknown> = []
  text = ""
  private at = 0
  private placeholders = 0

  constructor(
    private readonly against: ReadonlyArray<unknown> | undefined,
    private readonly quote: (name: string) => string,
    parameters: number
  ) {
    // Sized once from the kept shape: the record binds ~125.
    this.params = new Array(parameters)
  }

  /** True when the whole kept signature was met. */
  get complete() {
    return this.against === undefined || this.at === this.against.length
  }

  private token(token: unknown): boolean {
    if (this.against === undefined) {
      this.signature.push(token)
      return true
    }
    return this.against[this.at++] === token
  }

  private literal(value: string): Status {
    if (!this.token(value)) return MISMATCH
    if (this.against === undefined) this.text += value
    return OK
  }

  private identifier(name: string): Status {
    if (!this.token(IDENTIFIER) || !this.token(name)) return MISMATCH
    if (this.against === undefined) this.text += this.quote(name)
    return OK
  }

  private parameter(value: unknown): Status {
    if (!this.token(PARAMETER)) return MISMATCH
    this.params[this.placeholders++] = value
    if (this.against === undefined) this.text += `$${this.placeholders}`
    return OK
  }

  value(value: unknown): Status {
    if (value instanceof Piece) return this.piece(value)
    if (Statement.isFragment(value)) return this.fragment(value.segments)
    if (isHelper(value)) return value._tag === "Identifier" ? this.identifier(value.value) : STANDARD
    return this.parameter(value)
  }

  private piece(piece: Piece): Status {
    const { strings, values } = piece
    if (piece.fixed) {
      // The template's strings array: the same object is the same text.
      if (!this.token(strings)) return MISMATCH
      if (this.against === undefined) this.text += strings[0]
    } else {
      if (!this.token(COMPOSED) || !this.token(values.length)) return MISMATCH
      const status = this.literal(strings[0]!)
      if (status !== OK) return status
    }
    for (let i = 0; i < values.length; i++) {
      const status = this.value(values[i])
      if (status !== OK) return status
      if (!piece.fixed) {
        const next = this.literal(strings[i + 1]!)
        if (next !== OK) return next
      } else if (this.against === undefined) {
        this.text += strings[i + 1]
      }
    }
    return OK
  }

  /** A fragment's segments; its end is marked, so where the next value begins is part of the shape. */
  private fragment(segments: ReadonlyArray<Statement.Segment>): Status {
    if (!this.token(FRAGMENT)) return MISMATCH
    for (const segment of segments) {
      let status: Status
      switch (segment._tag) {
        case "Literal":
          status = segment.params !== undefined && segment.params.length > 0 ? STANDARD : this.literal(segment.value)
          break
        case "Identifier":
          status = this.identifier(segment.value)
          break
        case "Parameter":
          status = this.parameter(segment.value)
          break
        default:
          status = STANDARD
      }
      if (status !== OK) return status
    }
    return this.token(END) ? OK : MISMATCH
  }
}

/**
 * `statement.compile()` for statements and pieces that are only literal text, identifiers and
 * parameters (what the `sql` and `piece` templates make), with the text built once per shape. A
 * shape is the statement but for its parameter values: while it matches one of the last few
 * shapes kept under its key, that text comes back and only the parameters are collected, in
 * order. @effect/sql's compile concatenates every segment each time, and the end-of-call record
 * is ~500 segments, ~12 KB of text, per call. Values are still bound as parameters, never put
 * into the text. Any other segment (helpers, custom values, literals with parameters), or a
 * client whose placeholders are not PostgreSQL's `$n`, compiles the standard way.
 */
export const makeShapeCompiler = (sql: Statement.Constructor): ((statement: Statement.Fragment) => Compiled) => {
  // A fragment that is not a statement (a piece, StatementParts' composition) is compiled as a statement of it.
  const standard = (fragment: Statement.Fragment): Compiled =>
    ("compile" in fragment && typeof fragment.compile === "function" ? fragment as Statement.Statement<unknown> : sql`${fragment}`).compile()
  // Never run: how this client writes placeholders.
  if (sql`${0}${0}`.compile()[0] !== "$1$2") return standard
  // Quoted by the client, as inside any statement.
  const quote = (name: string) => sql`${sql(name)}`.compile()[0]
  const shapes = new Map<unknown, Array<Shape>>()
  let kept = 0

  // A template's strings for a piece (a composed one: how many strings), the segment count for the rest.
  const keyOf = (fragment: Statement.Fragment): unknown =>
    fragment instanceof Piece ? (fragment.fixed ? fragment.strings : fragment.strings.length) : fragment.segments.length

  return (statement) => {
    const key = keyOf(statement)
    const candidates = shapes.get(key)
    for (const shape of candidates ?? []) {
      const walk = new Walk(shape.signature, quote, shape.parameters)
      const status = walk.value(statement)
      if (status === STANDARD) return standard(statement)
      if (status === OK && walk.complete) return [shape.text, walk.params]
    }
    const walk = new Walk(undefined, quote, 0)
    if (walk.value(statement) !== OK) return standard(statement)
    if (kept >= MAX_SHAPES) {
      shapes.clear()
      kept = 0
    }
    const list = shapes.get(key) ?? []
    // The newest first; the oldest of a full list makes room.
    list.unshift({ signature: walk.signature, text: walk.text, parameters: walk.params.length })
    if (list.length > SHAPES_PER_KEY) list.pop()
    else kept++
    shapes.set(key, list)
    return [walk.text, walk.params]
  }
}
