import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Cause, Effect, Exit, Fiber, Layer, Option, Redacted, Tracer } from "effect"
import { opsOf } from "./support/OpCount.js"
import { AppConfig } from "../src/Config.js"
import { DatabaseUrl, SqlLive } from "../src/Database/Client.js"
import { orRefused, orUnavailable } from "../src/Database/Errors.js"
import { makeExecute } from "../src/Database/HotStatement.js"
import { eventually, eventuallyHolds } from "./support/Eventually.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"

const Database = SqlLive.pipe(
  Layer.provide(Layer.scoped(DatabaseUrl, Effect.map(testDatabaseUrl, Redacted.make))),
  Layer.provide(AppConfig.Default)
)

const failureOf = <A, E>(exit: Exit.Exit<A, E>) => Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()

/** Spans started while `self` runs, by name (a tracer that records; it is not Effect's native one). */
const spanNames = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const names: Array<string> = []
    const native = yield* Effect.tracer
    const recording = Tracer.make({
      span: (name, parent, context, links, startTime, kind, options) => {
        names.push(name)
        return native.span(name, parent, context, links, startTime, kind, options)
      },
      context: native.context
    })
    const result = yield* Effect.withTracer(self, recording)
    return { result, names }
  })


// Real PostgreSQL; `execute` must behave as `yield* statement` does, only cheaper.
layer(Database)("HotStatement.makeExecute", (it) => {
  it.effect("setup: a table", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`create table hot_items (id int primary key, name text not null)`
    }))

  it.effect("the same rows as the statement, in a fraction of its Effect operations", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const execute = yield* makeExecute(sql)
      const statement = () => sql<{ n: number; t: string }>`select ${41}::int + 1 as n, ${"x"}::text as t`
      const nothing = yield* opsOf(Effect.void)
      const hot = yield* opsOf(execute(statement()))
      const standard = yield* opsOf(statement())
      expect(hot.result).toEqual([{ n: 42, t: "x" }])
      expect(standard.result).toEqual(hot.result)
      // 12 against 67 here: what is left is Effect.async with its canceller (onInterrupt).
      expect(hot.ops - nothing.ops).toBeLessThanOrEqual(14)
      expect(standard.ops - nothing.ops).toBeGreaterThan(3 * (hot.ops - nothing.ops))
    }))

  it.effect("made inside a transaction (no layer is), it cannot know the pooled connection: it runs statements the standard way", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const execute = yield* sql.withTransaction(makeExecute(sql))
      const nothing = yield* opsOf(Effect.void)
      const run = yield* opsOf(execute(sql`select 1`))
      expect(run.result).toEqual([{ "?column?": 1 }])
      expect(run.ops - nothing.ops).toBeGreaterThan(20)
    }))

  it.effect("inside sql.withTransaction it runs on the transaction's connection: sees its writes, rolls back with it", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const execute = yield* makeExecute(sql)
      const pid = sql<{ pid: number }>`select pg_backend_pid() as pid`
      const seen = yield* sql.withTransaction(Effect.gen(function*() {
        yield* execute(sql`insert into hot_items (id, name) values (1, 'one')`)
        const [inside] = yield* execute(pid)
        const [standard] = yield* pid
        const rows = yield* execute(sql<{ name: string }>`select name from hot_items where id = 1`)
        // Nested: a savepoint, still the same connection.
        const [nested] = yield* sql.withTransaction(execute(pid))
        return { same: inside!.pid === standard!.pid && nested!.pid === standard!.pid, rows }
      }))
      expect(seen).toEqual({ same: true, rows: [{ name: "one" }] })

      const failed = yield* Effect.exit(sql.withTransaction(Effect.gen(function*() {
        yield* execute(sql`insert into hot_items (id, name) values (2, 'two')`)
        return yield* Effect.fail("abandon" as const)
      })))
      expect(failureOf(failed)).toEqual(Option.some("abandon"))
      expect(yield* execute(sql<{ id: number }>`select id from hot_items order by id`)).toEqual([{ id: 1 }])
    }))

  it.effect("failures are the same SqlError, so Database/Errors.ts maps them as before", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const execute = yield* makeExecute(sql)
      const duplicate = yield* Effect.flip(execute(sql`insert into hot_items (id, name) values (1, 'again')`))
      expect(duplicate._tag).toBe("SqlError")
      expect(duplicate.message).toBe("Failed to execute statement")
      expect(Option.getOrThrow(failureOf(yield* Effect.exit(orRefused(execute(sql`select ${"nope"}::int`))))))
        .toMatchObject({ _tag: "InvalidInput", sqlState: "22P02" })
      const killed = failureOf(yield* Effect.exit(orUnavailable(execute(sql`select pg_terminate_backend(pg_backend_pid())`))))
      expect(Option.getOrThrow(killed)).toMatchObject({ _tag: "DatabaseUnavailable", status: 503 })
      const after = yield* eventually(Effect.exit(execute(sql<{ one: number }>`select 1 as one`)), Exit.isSuccess)
      expect(after).toEqual(Exit.succeed([{ one: 1 }]))
    }))

  it.effect("interrupting it cancels the query in PostgreSQL", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const execute = yield* makeExecute(sql)
      const running = sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
        where query like 'select pg_sleep(30) /* hot */%' and state = 'active'`
      const fiber = yield* Effect.fork(execute(sql`select pg_sleep(30) /* hot */`))
      yield* eventuallyHolds(running, (rows) => rows[0]?.n === 1)
      yield* Fiber.interrupt(fiber)
      expect(yield* eventually(running, (rows) => rows[0]?.n === 0)).toEqual([{ n: 0 }])
    }))

  it.effect("prepared: a named statement per text, parsed once per connection, the same rows; names bounded per executor", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const execute = yield* makeExecute(sql)
      const preparedHere = sql<{ name: string; statement: string }>`select name, statement from pg_prepared_statements order by prepare_time`
      const seen = yield* sql.withTransaction(Effect.gen(function*() {
        const first = yield* execute.prepared(sql<{ n: number }>`select ${41}::int + 1 as n /* prepared */`)
        const second = yield* execute.prepared(sql<{ n: number }>`select ${1}::int + 1 as n /* prepared */`)
        const plain = yield* execute(sql<{ n: number }>`select ${2}::int + 1 as n /* unnamed */`)
        return { rows: [first, second, plain], statements: yield* preparedHere }
      }))
      expect(seen.rows).toEqual([[{ n: 42 }], [{ n: 2 }], [{ n: 3 }]])
      expect(seen.statements).toEqual([{ name: expect.stringMatching(/^ssv_[0-9a-f]{32}$/), statement: "select $1::int + 1 as n /* prepared */" }])

      // Past 8 texts an executor runs new ones unnamed: a connection keeps a bounded number.
      const many = yield* makeExecute(sql)
      const names = yield* sql.withTransaction(Effect.gen(function*() {
        for (let i = 0; i < 12; i++) expect(yield* many.prepared(sql<{ i: number }>`select ${i}::int as i /* text ${sql.literal(String(i))} */`)).toEqual([{ i }])
        return yield* preparedHere
      }))
      expect(names.filter((row) => row.statement.includes("/* text ")).map((row) => row.statement))
        .toEqual(Array.from({ length: 8 }, (_, i) => `select $1::int as i /* text ${i} */`))
    }))

  it.effect("with a tracer that records (OTEL configured) it keeps the sql.execute span; with tracing off, none is made", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const execute = yield* makeExecute(sql)
      const traced = yield* spanNames(execute(sql<{ one: number }>`select 1 as one`))
      expect(traced).toEqual({ result: [{ one: 1 }], names: ["sql.execute"] })
      const off = yield* spanNames(execute(sql<{ one: number }>`select 1 as one`).pipe(Effect.withTracerEnabled(false)))
      expect(off).toEqual({ result: [{ one: 1 }], names: [] })
    }))

  it.effect("values: each row as the array of its select list's values (list pages), alike on every path", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const execute = yield* makeExecute(sql)
      // Wide enough that pg's row objects would be dictionaries (27 columns, as a voice session).
      const columns = Array.from({ length: 27 }, (_, i) => `${i} as c${i}`).join(", ")
      const statement = () => sql`select ${"é\"x"}::text as t, null::int as nothing, ${sql.literal(columns)} from generate_series(1, 2)`
      const expected = Array.from({ length: 2 }, () => ["é\"x", null, ...Array.from({ length: 27 }, (_, i) => i)])
      expect(yield* execute.values(statement())).toEqual(expected)
      expect(yield* execute.preparedValues(statement())).toEqual(expected)
      expect(yield* sql.withTransaction(execute.preparedValues(statement()))).toEqual(expected)
      // With a tracer that records, the statement runs the standard way: its row objects in the same order.
      const traced = yield* spanNames(execute.preparedValues(statement()))
      expect(traced).toEqual({ result: expected, names: ["sql.execute"] })
      expect(yield* execute.values(sql`select 1 as one where false`)).toEqual([])
    }))
})
