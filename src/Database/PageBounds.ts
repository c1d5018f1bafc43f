import type * as Statement from "@effect/sql/Statement"

/**
 * Whether a list page can run as a prepared statement (Database/HotStatement.ts `prepared`): a
 * first page (offset 0; keyset pages are first pages too) of a whole-number limit.
 */
export const preparable = (limit: number, offset: number) => offset === 0 && Number.isSafeInteger(limit) && limit > 0

/**
 * A page's `limit ... offset ...`. A prepared page has its limit in the text and no offset:
 * PostgreSQL plans a parameter limit or offset as a tenth of the rows, so the generic plan
 * would look dearer than a custom one and the statement would be planned on every execution
 * anyway. A limit is one of a few page sizes, so this adds few texts.
 */
export const pageBounds = (sql: Statement.Constructor, limit: number, offset: number, prepared: boolean) =>
  prepared ? sql`limit ${sql.literal(String(limit))}` : sql`limit ${limit} offset ${offset}`
