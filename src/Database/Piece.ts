import * as Statement from "@effect/sql/Statement"

/**
 * A piece of SQL as a template wrote it: the template's strings and its values, nothing copied.
 * It reads like the `sql` template (a value is a parameter; a fragment or piece is SQL in place;
 * `sql(name)` is an identifier) but makes one small object, where `sql` makes a statement with a
 * segment per string and per value and copies every nested fragment's segments into it. Written
 * for the parts of the end-of-call record (~a hundred templates per call): StatementShapes walks
 * pieces without copying them and keeps the text per shape. A piece is a `Statement.Fragment`,
 * so a `sql` template may use it as any fragment (its segments are then made on demand).
 */
export class Piece implements Statement.Fragment {
  constructor(
    /** The template's own strings (one array per template site), or a composed list (`fixed` false). */
    readonly strings: ReadonlyArray<string>,
    readonly values: ReadonlyArray<unknown>,
    /** True for a template's strings, the same array on every call: its identity says its text. */
    readonly fixed: boolean
  ) {}

  get [Statement.FragmentId]() {
    return identity
  }

  /** The segments the `sql` template would have made of the same template (only when used in one). */
  get segments(): ReadonlyArray<Statement.Segment> {
    const segments: Array<Statement.Segment> = []
    const text = (value: string) => {
      if (value.length > 0) segments.push({ _tag: "Literal", value })
    }
    text(this.strings[0]!)
    for (let i = 0; i < this.values.length; i++) {
      const value = this.values[i]
      if (Statement.isFragment(value)) segments.push(...value.segments)
      else if (isHelper(value)) segments.push(value)
      else segments.push({ _tag: "Parameter", value })
      text(this.strings[i + 1]!)
    }
    return segments
  }
}

const identity = <A>(a: A) => a

/** The tags of what the `sql` template puts in place rather than binding it (`sql(name)`, `sql.in([...])`, ...). */
const HELPER_TAGS = new Set(["Identifier", "ArrayHelper", "RecordInsertHelper", "RecordUpdateHelper", "RecordUpdateHelperSingle"])

export const isHelper = (value: unknown): value is Statement.Helper =>
  typeof value === "object" && value !== null && "_tag" in value && typeof value._tag === "string" && HELPER_TAGS.has(value._tag)

/** A piece from a template: `piece\`select ${value}::int from ${sql(name)}\``. */
export const piece = (strings: TemplateStringsArray, ...values: ReadonlyArray<unknown>): Piece => new Piece(strings, values, true)

/** A piece from strings put together at run time (`values.length + 1` of them, compared by their text). */
export const composed = (strings: ReadonlyArray<string>, values: ReadonlyArray<unknown>): Piece => new Piece(strings, values, false)

/** `values` separated by `separator` (what `sql.csv` / `sql.join(separator, false)` write), as one piece. */
export const joined = (separator: string, values: ReadonlyArray<unknown>): Piece =>
  composed(values.length === 0 ? [""] : ["", ...values.slice(1).map(() => separator), ""], values)
