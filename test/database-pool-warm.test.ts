import { expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import type pg from "pg"
import { vi } from "vitest"
import { AppConfig } from "../src/Config.js"
import { DatabasePool, DatabaseUrl, SqlLive } from "../src/Database/Client.js"
import { testDatabaseUrl } from "./support/TestDatabase.js"

const POOL_MAX = 3

const pool = (url: string) =>
  SqlLive.pipe(
    Layer.provide(Layer.succeed(DatabaseUrl, Redacted.make(url))),
    Layer.provide(AppConfig.Default),
    Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["DATABASE_POOL_MAX", String(POOL_MAX)]]))))
  )

/** `POOL_MAX` statements at once, as a burst's admissions are: the clients (still checked out) and their server processes. */
const burst = (db: pg.Pool) =>
  Effect.promise(async () => {
    const clients = await Promise.all(Array.from({ length: POOL_MAX }, () => db.connect()))
    const pids = await Promise.all(clients.map(async (client) => Number((await client.query("select pg_backend_pid() as pid")).rows[0].pid)))
    return { clients, pids: pids.sort((a, b) => a - b) }
  })

it.scoped("the connections a burst opened serve the next burst after a quiet spell longer than the idle timeout", () =>
  Effect.gen(function*() {
    const db = yield* DatabasePool
    const first = yield* burst(db)
    expect(new Set(first.pids).size).toBe(POOL_MAX)
    // The pool's idle timer is a plain timer: released under fake timers, then a quiet minute passes.
    yield* Effect.sync(() => {
      vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] })
      try {
        for (const client of first.clients) client.release()
        vi.advanceTimersByTime(60_000)
      } finally {
        vi.useRealTimers()
      }
    })
    const next = yield* burst(db)
    for (const client of next.clients) client.release()
    // The same server processes: none had to be started, none loads the set-up's functions again.
    expect(next.pids).toEqual(first.pids)
  }).pipe(Effect.provide(Layer.unwrapScoped(Effect.map(testDatabaseUrl, pool)))))
