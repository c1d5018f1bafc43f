import * as PgClient from "@effect/sql-pg/PgClient"
import * as Statement from "@effect/sql/Statement"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { composed, joined, piece } from "../src/Database/Piece.js"
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

  it("compiles 3,000 seeded pieces exactly as the same statements written with sql templates", () => {
    const { int, pick } = seededRandom(20261204)
    const value = () => pick<unknown>([int(1000), `text ${int(50)}`, "$1", null, false])
    // Each shape written twice, as a piece and as the `sql` template it stands for.
    type Both = readonly [piece: Statement.Fragment, sql: Statement.Fragment]
    const leaf = (): Both => {
      const v = value()
      const name = pick(["x", "y", "we\"ird"])
      return pick<() => Both>([
        () => [piece`a = ${v}::int`, sql`a = ${v}::int`],
        () => [piece`${sql(name)} = ${v}`, sql`${sql(name)} = ${v}`],
        () => [piece`b`, sql`b`],
        () => [piece`${sql`c = ${v}`}`, sql`${sql`c = ${v}`}`],
        () => [sql.literal("1 = 1"), sql.literal("1 = 1")]
      ])()
    }
    const tree = (depth: number): Both => {
      if (depth === 0) return leaf()
      const [a, b] = [tree(depth - 1), tree(depth - 1)]
      const name = pick(["t", "u"])
      return pick<() => Both>([
        () => [piece`(${a[0]} and ${b[0]})`, sql`(${a[1]} and ${b[1]})`],
        () => [piece`select ${a[0]} from ${sql(name)} where ${b[0]}`, sql`select ${a[1]} from ${sql(name)} where ${b[1]}`],
        () => [joined(" or ", [a[0], b[0]]), sql.join(" or ", false)([a[1], b[1]])],
        () => [composed(["with ", " as (", ")"], [sql(name), a[0]]), sql`with ${sql(name)} as (${a[1]})`]
      ])()
    }
    const compile = makeShapeCompiler(sql)
    for (let i = 0; i < 3_000; i++) {
      const [p, s] = tree(int(4))
      expect(compile(p)).toEqual(sql`${s}`.compile())
      // And a piece in a `sql` template is the fragment it stands for.
      expect(sql`${p}`.compile()).toEqual(sql`${s}`.compile())
    }
  })

  it("pieces of one template whose fragments split the same parameters differently are different texts", () => {
    const compile = makeShapeCompiler(sql)
    const site = (x: Statement.Fragment, y: Statement.Fragment) => piece`a ${x} b ${y} c`
    const first = site(sql`${1}`, sql`${2}${3}`)
    const second = site(sql`${1}${2}`, sql`${3}`)
    expect(compile(first)).toEqual(sql`${first}`.compile())
    expect(compile(second)).toEqual(["a $1$2 b $3 c", [1, 2, 3]])
    // A composed piece of as many strings, but other ones, is another text too.
    expect(compile(composed(["x ", " y"], [1]))).toEqual(["x $1 y", [1]])
    expect(compile(composed(["x ", " z"], [2]))).toEqual(["x $1 z", [2]])
  })

  it("a client with other placeholders compiles the standard way", () => {
    const sqlite = Statement.make(Effect.dieMessage("not run"), Statement.makeCompilerSqlite(), [], undefined)
    const compile = makeShapeCompiler(sqlite)
    expectSame(compile, sqlite`select ${1}, ${sqlite("x")}`)
    expect(compile(sqlite`select ${1}`)[0]).toBe("select ?")
  })
})
