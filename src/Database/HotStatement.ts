import * as SqlClient from "@effect/sql/SqlClient"
import * as Statement from "@effect/sql/Statement"
import type { Connection } from "@effect/sql/SqlConnection"
import type { SqlError } from "@effect/sql/SqlError"
import { Context, DefaultServices, Effect, FiberRef, Tracer } from "effect"
import { type PreparedNames, makePreparedNames } from "./PreparedNames.js"
import { makeShapeCompiler } from "./StatementShapes.js"

/**
 * Runs a statement written with the `sql` template: what `yield* statement` does, for the
 * hottest statements, in 12 Effect operations instead of 67 (test/hot-statement.test.ts); the
 * 12 are the one `Effect.async` with its canceller, which must stay (interruption cancels).
 * SQL is still written with the template in the repos; only how it is run changes.
 */
type Run = <A extends object>(statement: Statement.Statement<A>) => Effect.Effect<ReadonlyArray<A>, SqlError>

/** A row as pg's `rowMode: "array"` gives it: the select list's values in its order. */
export type RowValues = ReadonlyArray<unknown>

/** Runs a statement whose rows are wanted as `RowValues` (its select list's names all differ). */
type RunValues = (statement: Statement.Statement<object>) => Effect.Effect<ReadonlyArray<RowValues>, SqlError>

export interface Execute extends Run {
  /**
   * The same, sent as a named prepared statement (Database/PreparedNames.ts): PostgreSQL parses
   * it once per connection and, once its generic plan proves as cheap as a custom one, stops
   * planning it. Only for shapes whose one plan suits every value of their parameters (a
   * tenant's plain list page), never for searches: a generic plan cannot tell a common term
   * from a rare one and could walk the wrong index.
   */
  readonly prepared: Run
  /**
   * The same, each row an array of its values (pg's `rowMode: "array"`), for a page that is
   * written out column by column (Http/RowJson.ts). pg builds its row objects by spreading one
   * prebuilt object per statement; with the service's many statement shapes that spread is
   * megamorphic and a wide row (a voice session's 27 columns) comes out as a dictionary, ~1 kB
   * per row, where an array is ~0.25 kB (bench/RESULTS.md, stop 35, listalloc).
   */
  readonly values: RunValues
  /** `values`, as a named prepared statement (`prepared`). */
  readonly preparedValues: RunValues
}

/** The tracer that exports nothing (Effect's default): its spans are only read by their children. */
const nativeTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)

const isConnection = (u: unknown): u is Connection =>
  typeof u === "object" && u !== null && "execute" in u && typeof u.execute === "function"

/**
 * `yield* statement` (@effect/sql 0.52, internal/statement.js `withConnection`) opens a
 * `sql.execute` span (a no-op one with tracing off), looks up the statement transformer, opens
 * a scope, and acquires the connection through the context before its one `Effect.async`. On
 * PgClient (@effect/sql-pg 0.53) the connection outside a transaction is a stateless handle
 * that checks a client out of the pool for each query, and inside `sql.withTransaction` it is
 * the transaction's, found under `SqlClient.TransactionConnection` in the fiber's context.
 * This does those same two lookups synchronously and calls the same `Connection.execute`, so
 * failures are the same `SqlError`s (Database/Errors.ts reads them) and interruption cancels
 * the query as before.
 *
 * The statement runs the standard way (with its span) whenever that span could be seen: a
 * tracer that exports (OTEL_EXPORTER_OTLP_ENDPOINT, src/Telemetry.ts; or a test's) is
 * installed and enabled, or a statement transformer is set; also for a client this does not
 * recognise (row transforms, or an @effect/sql whose statements no longer carry `acquirer`).
 */
export const makeExecute = (sql: SqlClient.SqlClient): Effect.Effect<Execute> =>
  Effect.map(makeDirect(sql), (direct): Execute => {
    const standard: Run = (statement) => statement
    const standardValues: RunValues = (statement) => Effect.map(statement, asValues)
    if (direct === undefined) {
      return Object.assign(standard, { prepared: standard, values: standardValues, preparedValues: standardValues })
    }
    // The text once per statement shape, the parameters every time (StatementShapes.ts).
    const compile = makeShapeCompiler(sql)
    const names = makePreparedNames()
    const run = (prepared: PreparedNames | undefined): Run => <A extends object>(statement: Statement.Statement<A>) =>
      direct(() => statement, () => compile(statement), prepared)
    const values = (prepared: PreparedNames | undefined): RunValues => (statement) =>
      direct(() => Effect.map(statement, asValues), () => compile(statement), prepared, "array")
    return Object.assign(run(undefined), { prepared: run(names), values: values(undefined), preparedValues: values(names) })
  })

/** A row object of the standard path as the array pg's `rowMode: "array"` gives (pg keeps the select list's order). */
const asValues = (rows: ReadonlyArray<object>): ReadonlyArray<RowValues> => rows.map((row) => Object.values(row))

/** Runs SQL text already compiled (placeholders `$n`) with its parameters: `sql.unsafe(text, params)`. */
type RunText = <A extends object>(text: string, params: ReadonlyArray<unknown>) => Effect.Effect<ReadonlyArray<A>, SqlError>

export interface ExecuteText extends RunText {
  /** The same, as a named prepared statement (`Execute.prepared`), for a text whose one plan suits every value. */
  readonly prepared: RunText
}

/**
 * `makeExecute` for a writer that compiles its statement itself (CallRecords, its text kept per
 * shape): no statement is made, nor compiled again, unless it runs the standard way.
 */
export const makeExecuteText = (sql: SqlClient.SqlClient, preparedNames?: number): Effect.Effect<ExecuteText> =>
  Effect.map(makeDirect(sql), (direct): ExecuteText => {
    const run = (prepared: PreparedNames | undefined): RunText => <A extends object>(text: string, params: ReadonlyArray<unknown>) => {
      const standard = () => sql.unsafe<A>(text, params)
      return direct === undefined ? standard() : direct(standard, () => [text, params] as const, prepared)
    }
    return Object.assign(run(undefined), { prepared: run(makePreparedNames(preparedNames)) })
  })

/**
 * The direct path both share: given how to make the standard statement (run when its span could
 * be seen) and the compiled text with its parameters, runs it on the fiber's connection.
 * Undefined when the client is not one this recognises (then every statement runs the standard way).
 */
const makeDirect = (sql: SqlClient.SqlClient) =>
  Effect.gen(function*() {
    // Never run: read for the client's connection source and row transform.
    const probe = sql`select 1`
    if (!("acquirer" in probe) || !Effect.isEffect(probe.acquirer) || !("transformRows" in probe)) return undefined
    if (probe.transformRows !== undefined) return undefined
    // Resolved outside any transaction (layers are built outside one): the pool-backed handle.
    if ((yield* Effect.serviceOption(SqlClient.TransactionConnection))._tag === "Some") return undefined
    const acquirer = probe.acquirer as Connection.Acquirer
    const pooled: unknown = yield* Effect.scoped(acquirer).pipe(Effect.orElseSucceed(() => undefined))
    if (!isConnection(pooled)) return undefined
    return <A>(
      standard: () => Effect.Effect<ReadonlyArray<A>, SqlError>,
      compiled: () => readonly [text: string, params: ReadonlyArray<unknown>],
      prepared?: PreparedNames,
      rowMode?: "array"
    ) =>
      Effect.withFiberRuntime<ReadonlyArray<A>, SqlError>((fiber) => {
        const tracing = fiber.getFiberRef(FiberRef.currentTracerEnabled) && fiber.currentTracer !== nativeTracer
        if (tracing || fiber.getFiberRef(Statement.currentTransformer)._tag === "Some") return standard()
        const transaction = Context.getOption(fiber.currentContext, SqlClient.TransactionConnection)
        const connection = transaction._tag === "Some" ? transaction.value[0] : pooled
        const [text, params] = compiled()
        const name = prepared?.nameOf(text)
        // PgClient hands its first argument to pg's `client.query(text, values, callback)`
        // as it is, and pg takes a query config there: `{ name, text }` prepares it by name
        // on each connection once, `rowMode` shapes its rows (a fresh object: pg adds the values to it).
        const query = name === undefined && rowMode === undefined ? text : { name, text, rowMode } as unknown as string
        return connection.execute(query, params, undefined) as Effect.Effect<ReadonlyArray<A>, SqlError>
      })
  })
