import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { expect, layer } from "@effect/vitest"
import { Cause, Effect, Either, Exit, Layer, Option, Redacted, Schema } from "effect"
import * as net from "node:net"
import pg from "pg"
import { AppConfig } from "../src/Config.js"
import { DatabaseUrl, SqlLive } from "../src/Database/Client.js"
import { orNothing, orRefused, orUnavailable } from "../src/Database/Errors.js"
import { classifyFailure } from "../src/Database/SqlState.js"
import { eventually } from "./support/Eventually.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"

/** The domain error a repository would map a constraint to. */
class NameTaken extends Schema.TaggedError<NameTaken>()("NameTaken", { name: Schema.String }) {
  readonly status = 409 as const
}
class ParentMissing extends Schema.TaggedError<ParentMissing>()("ParentMissing", {}) {
  readonly status = 404 as const
}

const Database = SqlLive.pipe(
  Layer.provide(Layer.scoped(DatabaseUrl, Effect.map(testDatabaseUrl, Redacted.make))),
  Layer.provide(AppConfig.Default)
)

const PARENT = "00000000-0000-4000-8000-000000000001"
const MISSING = "00000000-0000-4000-8000-0000000000ff"

const failureOf = <A, E>(exit: Exit.Exit<A, E>) => Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()

/** A port nothing listens on: bound, then released. */
const closedPort = Effect.async<number>((resume) => {
  const server = net.createServer().listen(0, "127.0.0.1", () => {
    const address = server.address()
    server.close(() => resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 1)))
  })
})

// Every failure here is produced by a real PostgreSQL, not constructed by hand.
layer(Database)("statement failures by kind", (it) => {
  it.effect("setup: a table with a unique name and a parent reference", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql`create table items (id uuid primary key, name text not null constraint items_name_key unique,
        parent uuid constraint items_parent_fkey references items (id), doc jsonb)`
      yield* sql`insert into items (id, name) values (${PARENT}, 'root')`
    }))

  it.effect("a value the column cannot hold: nothing for a lookup, InvalidInput (400) for a write", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      expect(yield* orNothing(sql`select * from items where id = ${"not-a-uuid"}`, [])).toEqual([])
      expect(yield* orNothing(sql`select * from items where name = ${"a\u0000b"}`, [])).toEqual([])

      const cases: ReadonlyArray<readonly [string, Effect.Effect<unknown, SqlError>]> = [
        ["22P02", sql`insert into items (id, name) values (${"not-a-uuid"}, 'x')`],
        ["22021", sql`insert into items (id, name) values (${MISSING}, ${"nul\u0000"})`],
        ["22P05", sql`insert into items (id, name, doc) values (${MISSING}, 'doc', ${JSON.stringify({ a: "\u0000" })}::jsonb)`],
        ["22003", sql`select ${"99999999999"}::int`],
        ["23502", sql`insert into items (id, name) values (${MISSING}, null)`]
      ]
      for (const [sqlState, statement] of cases) {
        const failure = failureOf(yield* Effect.exit(orRefused(statement)))
        expect(Option.getOrThrow(failure), sqlState).toMatchObject({ _tag: "InvalidInput", status: 400, sqlState })
      }
      const nul = failureOf(yield* Effect.exit(orRefused(cases[1]![1])))
      expect(Option.getOrThrow(nul).message).toBe("Invalid input: text must not contain NUL (\\u0000) characters")
    }))

  it.effect("a constraint violation means what the statement says it means, else it is invalid input", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const insert = (name: string, parent: string | null) =>
        orRefused(sql`insert into items (id, name, parent) values (gen_random_uuid(), ${name}, ${parent})`, {
          items_name_key: () => new NameTaken({ name }),
          items_parent_fkey: () => new ParentMissing()
        })
      expect(failureOf(yield* Effect.exit(insert("root", null)))).toEqual(Option.some(new NameTaken({ name: "root" })))
      expect(failureOf(yield* Effect.exit(insert("orphan", MISSING)))).toEqual(Option.some(new ParentMissing()))
      const unnamed = failureOf(yield* Effect.exit(orRefused(sql`insert into items (id, name) values (gen_random_uuid(), 'root')`)))
      expect(Option.getOrThrow(unnamed)).toMatchObject({ _tag: "InvalidInput", sqlState: "23505" })
    }))

  it.effect("a statement timeout and a terminated connection are the database being unavailable (503)", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const timedOut = sql.withTransaction(
        Effect.zipRight(sql`set local statement_timeout = 20`, sql`select pg_sleep(5)`)
      )
      const killed = sql`select pg_terminate_backend(pg_backend_pid())`
      for (const statement of [timedOut, killed]) {
        const failure = failureOf(yield* Effect.exit(orUnavailable(statement)))
        expect(Option.getOrThrow(failure)).toMatchObject({ _tag: "DatabaseUnavailable", status: 503 })
      }
      // The pool drops the connection it lost (the next query may still meet it once: 503 again).
      const after = yield* eventually(Effect.either(orUnavailable(sql`select 1 as one`)), Either.isRight)
      expect(after).toEqual(Either.right([{ one: 1 }]))
    }))

  it.effect("a refused connection is unavailable; a broken statement or a refusal where none can happen is a defect", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const refused = yield* Effect.flip(Effect.tryPromise(() => new pg.Client({ host: "127.0.0.1", port }).connect()))
      expect(classifyFailure(refused.error)).toEqual({ kind: "unavailable" })

      const sql = yield* SqlClient.SqlClient
      const syntax = yield* Effect.exit(orUnavailable(sql.unsafe("selec 1")))
      expect(Exit.isFailure(syntax) && Cause.isDie(syntax.cause)).toBe(true)
      const refusal = yield* Effect.exit(orUnavailable(sql`select ${"not-a-uuid"}::uuid`))
      expect(Exit.isFailure(refusal) && Cause.isDie(refusal.cause)).toBe(true)
    }))

  it.effect("a domain error raised inside a transaction passes through the transaction's boundary untouched", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const inner = orRefused(sql`insert into items (id, name) values (${MISSING}, ${"x\u0000"})`)
      const failure = failureOf(yield* Effect.exit(orUnavailable(sql.withTransaction(inner))))
      expect(Option.getOrThrow(failure)).toMatchObject({ _tag: "InvalidInput", sqlState: "22021" })
      expect(yield* orUnavailable(sql`select count(*)::int as n from items`)).toEqual([{ n: 1 }])
    }))
})
