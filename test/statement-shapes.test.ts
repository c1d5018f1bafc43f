import * as PgClient from "@effect/sql-pg/PgClient"
import * as Statement from "@effect/sql/Statement"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeShapeCompiler } from "../src/Database/StatementShapes.js"
import { seededRandom } from "./support/SeededRandom.js"

// PostgreSQL's compiler, no connection: these statements are only compiled, never run.
const sql = Statement.make(Effect.dieMessage("not run"), PgClient.makeCompiler(), [], undefined)
const expectSame = (compile: ReturnType<typeof makeShapeCompiler>, statement: Statement.Statement<unknown>) =>
  expect(compile(statement)).toEqual(statement.compile())

describe("StatementShapes.makeShapeCompiler", () => {
  it("compiles 3,000 seeded statements of a few dozen shapes exactly as @effect/sql does", () => {
    const { int, pick } = seededRandom(20261203)
    const value = () => pick<unknown>([int(1000), `text ${int(50)}`, "$1", "'; drop table x; --", null, true, new Date(int(1e12))])
    const piece = (): Statement.Fragment =>
      pick([
        () => sql`a = ${value()}`,
        () => sql`b between ${value()} and ${value()}`,
        () => sql`${sql(pick(["x", "y", "we\"ird"]))} = ${value()}`,
        () => sql.literal(pick(["1 = 1", "2 = 2"])),
        () => sql`c = ${value()}::text and d = 'lit'`,
        () => sql`${value()}`,
        () => sql`(${sql.join(" or ", false)([sql`e = ${value()}`, sql`f = ${value()}`])})`,
        // Not plain segments: compiled the standard way.
        () => sql`g ${sql.in([value(), value()])}`,
        () => Statement.unsafeFragment("h = $1", [value()])
      ])()
    const compile = makeShapeCompiler(sql)
    for (let i = 0; i < 3_000; i++) {
      const parts = Array.from({ length: 1 + int(4) }, piece)
      const where = sql.join(pick([" and ", " or "]), false)(parts)
      const statement = int(2) === 0
        ? sql`select * from ${sql(pick(["t", "u"]))} where ${where}`
        : sql`with w as (select ${value()}::int as n where ${where}) select n from w`
      expectSame(compile, statement)
    }
  })

  it("the same number of segments in another order, or another identifier, is another text", () => {
    const compile = makeShapeCompiler(sql)
    // Three segments each: literal, parameter, literal, then literal, literal (identifier), parameter.
    expectSame(compile, sql`a = ${1} and b`)
    expectSame(compile, sql`a = ${sql("b")}${2}`)
    expectSame(compile, sql`a = ${1} and b`)
    expectSame(compile, sql`a = ${1} and c`)
    expectSame(compile, sql`a = ${sql("b")}${2}`)
    expectSame(compile, sql`a = ${sql("c")}${2}`)
    expectSame(compile, sql`a = ${sql.literal("c")}${2}`)
    expectSame(compile, sql`a = ${sql.literal("1")}`)
    expectSame(compile, sql`a = ${1}`)
  })

  it("keeps a few shapes of one segment count: statements alternating are each built once", () => {
    // Building a shape quotes its identifiers through the client: count those calls.
    let quoted = 0
    const counting = new Proxy(sql, {
      apply: (target, self, args) => {
        if (typeof args[0] === "string") quoted++
        return Reflect.apply(target, self, args)
      }
    })
    const compile = makeShapeCompiler(counting)
    const statements = [sql`select ${sql("t")} where a = ${1}`, sql`select ${sql("u")} where b = ${2}`, sql`select ${sql("v")} where c = ${3}`]
    for (let round = 0; round < 4; round++) for (const statement of statements) expectSame(compile, statement)
    expect(quoted).toBe(statements.length)
  })

  it("a fragment that is not a statement compiles as the statement of it, helpers included", () => {
    const compile = makeShapeCompiler(sql)
    const plain = sql.join(" and ", false)([sql`a = ${1}`, sql`${sql("b")} = ${"x"}`])
    const helper = sql.join(" and ", false)([sql`a = ${1}`, sql`b ${sql.in([1, 2])}`])
    for (const fragment of [plain, helper, plain]) expect(compile(fragment)).toEqual(sql`${fragment}`.compile())
  })

  it("a client with other placeholders compiles the standard way", () => {
    const sqlite = Statement.make(Effect.dieMessage("not run"), Statement.makeCompilerSqlite(), [], undefined)
    const compile = makeShapeCompiler(sqlite)
    expectSame(compile, sqlite`select ${1}, ${sqlite("x")}`)
    expect(compile(sqlite`select ${1}`)[0]).toBe("select ?")
  })
})
