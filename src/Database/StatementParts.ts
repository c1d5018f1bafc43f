import type { Statement } from "@effect/sql"

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

/** The CTE list (`with ... `) of `parts`, in order, and an expression that sends the NOTIFYs they ask for. */
export const composeParts = (sql: Statement.Constructor, parts: ReadonlyArray<StatementPart>) => ({
  with: sql`with ${sql.join(",\n", false)(parts.map((part) => sql`${sql(part.name)} as (${part.statement})`))}`,
  // A SELECT in a WITH runs only if referenced: each wake is a scalar subquery of the final select.
  wakes: sql.join(" + ", false, "0")(
    parts.flatMap((part) =>
      part.wakes === undefined
        ? []
        : [sql`(select count(pg_notify(${part.wakes.channel}, ${part.wakes.payload})) from ${sql(part.name)})`]
    )
  )
})
