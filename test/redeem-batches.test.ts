import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Deferred, Effect, Either, Exit, Fiber, Layer, Scope } from "effect"
import type { TokenUse } from "../src/Auth/StreamTokens.js"
import { type LiveCall, Refused } from "../src/LiveCalls/Domain.js"
import { LiveCalls } from "../src/LiveCalls/LiveCalls.js"
import { makeRedeemBatches } from "../src/LiveCalls/RedeemBatches.js"
import { LiveCallsRepo, type Redeeming } from "../src/LiveCalls/Repo.js"
import { eventually } from "./support/Eventually.js"
import { namedLiveCall } from "./support/LiveCallFixtures.js"
import { putTenant } from "./support/FakeTwilioServer.js"
import { databaseProxy } from "./support/TcpProxy.js"
import { makeTestServer } from "./support/TestServer.js"

/**
 * Stream starts' token spends and ledger rows go as shared statements (LiveCalls/RedeemBatches.ts,
 * LiveCallsRepo.insertRedeemingBatch): each start still gets exactly its own answer.
 * Statements are counted by the transactions that wrote the rows (`xmin`): one per statement.
 */

// The suite's database proxy, for the outage test to cut.
const database = databaseProxy()

const TENANT = "batches"

// The repository of the server's database, for batchers of the tests' own.
const Suite = Layer.merge(Layer.effectDiscard(putTenant(TENANT)), LiveCallsRepo.Default).pipe(
  Layer.provideMerge(makeTestServer({ ANALYSIS_WORKER_ENABLED: "false" }, { viaDatabaseUrl: database.viaDatabaseUrl }))
)

const callOf = (name: string, startedAt = new Date()): LiveCall => namedLiveCall(TENANT, name, startedAt)

const useOf = (token: string, callSid: string): TokenUse => ({
  tokenId: `tok-${token}`,
  tenantId: TENANT,
  callSid,
  expiresAt: new Date(Date.now() + 60_000)
})

/** Nothing to record: the ledger row is left as it is when the test's scope ends. */
const held = <E>(holding: Effect.Effect<{ readonly recorded: Effect.Effect<void> }, E, Scope.Scope>) =>
  Effect.tap(holding, (h) => h.recorded)

const refuse = () => new Refused({ reason: "a test call has no media" })

/** How many statements wrote these tokens' uses (distinct writing transactions), and the rows. */
const spends = (prefix: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ statements: number; uses: number; rows: number }>`
      select count(distinct u.xmin::text)::int as statements, count(*)::int as uses,
        (select count(*)::int from live_calls where tenant_id = ${TENANT} and stream_sid like ${`MZ-${prefix}%`}) as rows
      from stream_token_uses u where u.token_id like ${`tok-${prefix}%`}`).pipe(Effect.map((rows) => rows[0]!))

/**
 * A batcher on the service's own statement whose first batch waits for `gate`: what queues
 * behind a statement in flight is then known. `sizes` are the batches sent, in order.
 */
const gatedBatches = (replicaId = "replica-gated") =>
  Effect.gen(function*() {
    const repo = yield* LiveCallsRepo
    const gate = yield* Deferred.make<void>()
    const sizes: Array<number> = []
    const batches = yield* makeRedeemBatches((entries: ReadonlyArray<Redeeming>) =>
      Effect.suspend(() => {
        sizes.push(entries.length)
        const statement = repo.insertRedeemingBatch(entries, replicaId)
        return sizes.length === 1 ? Effect.zipRight(Deferred.await(gate), statement) : statement
      })
    )
    return { ...batches, open: Deferred.succeed(gate, undefined), sizes }
  })

/** Forks `redeem`s and lets each reach the queue. */
const forkAll = <A, E>(effects: ReadonlyArray<Effect.Effect<A, E>>) =>
  Effect.tap(Effect.forEach(effects, (effect) => Effect.fork(effect)), () => Effect.sleep("20 millis"))

layer(Suite, { excludeTestServices: true })("stream starts' token spends in shared statements", (it) => {
  it.effect("many concurrent starts with distinct tokens: all held, a ledger row, a use and a settled admission each, in fewer statements than calls", () =>
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const liveCalls = yield* LiveCalls
      const n = 40
      const names = Array.from({ length: n }, (_, i) => `many-${i}`)
      // Each call's admission, waiting for its start to settle it (Limits/Repo.ts admissionsSettled).
      yield* sql`insert into call_admissions (id, tenant_id, replica_id, direction, call_sid, admitted_at)
                 select gen_random_uuid(), ${TENANT}, 'elsewhere', 'inbound', unnest(${names.map((name) => `CA-${name}`)}::text[]), now()`
      const results = yield* Effect.forEach(names, (name) =>
        Effect.either(held(liveCalls.hold(callOf(name), refuse, useOf(name, `CA-${name}`)))), { concurrency: "unbounded" })
      expect(results.filter(Either.isRight)).toHaveLength(n)

      const spent = yield* spends("many-")
      expect(spent.uses).toBe(n)
      expect(spent.rows).toBe(n)
      // A statement per call before: here the first start goes alone and the rest queue behind it.
      expect(spent.statements).toBeLessThan(n / 4)
      const left = yield* sql<{ n: number }>`
        select count(*)::int as n from call_admissions where tenant_id = ${TENANT} and call_sid like 'CA-many-%'`
      expect(left[0]!.n).toBe(0)
    }).pipe(Effect.scoped))

  it.effect("two concurrent starts with the same token: exactly one is held; a replay on another stream later is refused", () =>
    Effect.gen(function*() {
      const liveCalls = yield* LiveCalls
      const sql = yield* SqlClient.SqlClient
      const use = useOf("twice", "CA-twice")
      // Behind a start in flight, the two queue together: they must not share a statement.
      const results = yield* Effect.forEach(
        [
          held(liveCalls.hold(callOf("twice-filler"), refuse, useOf("twice-filler", "CA-twice-filler"))),
          held(liveCalls.hold(callOf("twice-a"), refuse, use)),
          held(liveCalls.hold(callOf("twice-b"), refuse, use))
        ],
        (hold) => Effect.either(hold),
        { concurrency: "unbounded" }
      )
      expect(Either.isRight(results[0]!)).toBe(true)
      const [a, b] = [results[1]!, results[2]!]
      expect([a, b].filter(Either.isRight)).toHaveLength(1)
      const refused = Either.isLeft(a) ? a.left : Either.isLeft(b) ? b.left : undefined
      expect(refused).toMatchObject({ _tag: "InvalidStreamToken", reason: "already used" })
      const rows = yield* sql<{ stream_sid: string }>`
        select stream_sid from live_calls where tenant_id = ${TENANT} and stream_sid in ('MZ-twice-a', 'MZ-twice-b')`
      expect(rows).toHaveLength(1)

      const replay = yield* Effect.either(held(liveCalls.hold(callOf("twice-replay"), refuse, use)))
      expect(replay).toMatchObject({ _tag: "Left", left: { _tag: "InvalidStreamToken", reason: "already used" } })
      expect((yield* spends("twice-replay")).rows).toBe(0)
    }).pipe(Effect.scoped))

  it.effect("queued together, the same token goes in separate statements: a retry of the same call is held, another stream's is not", () =>
    Effect.gen(function*() {
      const batches = yield* gatedBatches()
      const first = callOf("dup-first")
      const use = useOf("dup", "CA-dup-first")
      const fibers = yield* forkAll([
        batches.redeem(callOf("dup-filler"), useOf("dup-filler", "CA-dup-filler")),
        batches.redeem(first, use),
        // The same call again (its first answer lost): same stream, replica and start time.
        batches.redeem(first, use),
        batches.redeem(callOf("dup-other"), use),
        batches.redeem(callOf("dup-fresh"), useOf("dup-fresh", "CA-dup-fresh"))
      ])
      yield* batches.open
      const answers = yield* Effect.forEach(fibers, Fiber.join)
      expect(answers).toEqual([true, true, true, false, true])
      // The filler; then the first spend with the fresh one; then each later use of the token alone.
      expect(batches.sizes).toEqual([1, 2, 1, 1])
      expect((yield* spends("dup-")).rows).toBe(3)

      // After its batch committed, the same call retried is held; on another replica it is not.
      expect(yield* batches.redeem(first, use)).toBe(true)
      const elsewhere = yield* gatedBatches("replica-elsewhere")
      yield* elsewhere.open
      expect(yield* elsewhere.redeem(first, use)).toBe(false)
    }).pipe(Effect.scoped))

  it.effect("a waiting start interrupted is not sent, and the others of its batch are answered", () =>
    Effect.gen(function*() {
      const batches = yield* gatedBatches()
      const [filler, gone, kept] = yield* forkAll([
        batches.redeem(callOf("int-filler"), useOf("int-filler", "CA-int-filler")),
        batches.redeem(callOf("int-gone"), useOf("int-gone", "CA-int-gone")),
        batches.redeem(callOf("int-kept"), useOf("int-kept", "CA-int-kept"))
      ])
      expect(Exit.isInterrupted(yield* Fiber.interrupt(gone!))).toBe(true)
      yield* batches.open
      expect(yield* Fiber.join(filler!)).toBe(true)
      expect(yield* Fiber.join(kept!)).toBe(true)
      expect(batches.sizes).toEqual([1, 1])
      expect((yield* spends("int-gone")).uses).toBe(0)
    }).pipe(Effect.scoped))

  it.effect("a start PostgreSQL refuses (its tenant is gone) fails alone: its batch is run again entry by entry", () =>
    Effect.gen(function*() {
      const batches = yield* gatedBatches()
      const fibers = yield* forkAll([
        batches.redeem(callOf("poison-filler"), useOf("poison-filler", "CA-poison-filler")),
        batches.redeem(callOf("poison-a"), useOf("poison-a", "CA-poison-a")),
        batches.redeem({ ...callOf("poison-bad"), tenantId: "no-such-tenant" }, useOf("poison-bad", "CA-poison-bad")),
        batches.redeem(callOf("poison-b"), useOf("poison-b", "CA-poison-b"))
      ])
      yield* batches.open
      const exits = yield* Effect.forEach(fibers, Fiber.await)
      expect(exits.map((exit) => Exit.isSuccess(exit) ? exit.value : "died")).toEqual([true, true, "died", true])
      expect(batches.sizes).toEqual([1, 3, 1, 1, 1])
      expect((yield* spends("poison-")).rows).toBe(3)
    }).pipe(Effect.scoped))

  it.effect("at the batcher's close, what is queued is still sent", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const batches = yield* Scope.extend(gatedBatches(), scope)
      const fibers = yield* forkAll([
        batches.redeem(callOf("close-filler"), useOf("close-filler", "CA-close-filler")),
        batches.redeem(callOf("close-a"), useOf("close-a", "CA-close-a")),
        batches.redeem(callOf("close-b"), useOf("close-b", "CA-close-b"))
      ])
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* batches.open
      yield* Fiber.join(closing)
      expect(yield* Effect.forEach(fibers, Fiber.join)).toEqual([true, true, true])
      expect(batches.sizes).toEqual([1, 2])
      // After the close a start runs alone.
      expect(yield* batches.redeem(callOf("close-late"), useOf("close-late", "CA-close-late"))).toBe(true)
      expect(batches.sizes).toEqual([1, 2, 1])
    }))

  it.effect("the database unavailable during a batch: every start of that batch gets DatabaseUnavailable, a later batch works", () =>
    Effect.gen(function*() {
      const batches = yield* gatedBatches()
      const fibers = yield* forkAll([
        batches.redeem(callOf("down-filler"), useOf("down-filler", "CA-down-filler")),
        ...["a", "b", "c"].map((x) => batches.redeem(callOf(`down-${x}`), useOf(`down-${x}`, `CA-down-${x}`)))
      ])
      yield* database.current().cut
      yield* batches.open
      const answers = yield* Effect.forEach(fibers, (fiber) => Effect.either(Fiber.join(fiber)))
      expect(answers.map((answer) => Either.isLeft(answer) ? answer.left._tag : answer.right)).toEqual([
        "DatabaseUnavailable",
        "DatabaseUnavailable",
        "DatabaseUnavailable",
        "DatabaseUnavailable"
      ])
      expect(batches.sizes).toEqual([1, 3])
      yield* database.current().restore

      const again = yield* eventually(Effect.either(batches.redeem(callOf("down-a"), useOf("down-a", "CA-down-a"))), Either.isRight, 10_000)
      expect(again).toEqual(Either.right(true))
      expect((yield* spends("down-")).uses).toBe(1)
    }).pipe(Effect.scoped))
})
