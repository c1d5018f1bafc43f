import { PgClient } from "@effect/sql-pg"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Redacted } from "effect"
import { DatabaseUrl } from "../src/Database/Client.js"
import { type Notification, Notifications } from "../src/Database/Notifications.js"
import { makeWake } from "../src/Database/Wake.js"
import { eventuallyHolds } from "./support/Eventually.js"
import { query, testDatabaseUrl } from "./support/TestDatabase.js"

/** Lets forked fibers run until they block. */
const settle = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))

describe("coalescing wake-ups", () => {
  it.live("a burst wakes the waiter once; a signal during its work makes it run exactly once more", () =>
    Effect.gen(function*() {
      const wake = makeWake()
      let runs = 0
      const worker = yield* Effect.fork(Effect.forever(Effect.zipRight(wake.await, Effect.sync(() => runs++))))
      yield* settle
      expect(runs).toBe(0)
      for (let i = 0; i < 100; i++) wake.signal()
      yield* settle
      expect(runs).toBe(1)
      // Signals while it works (here: before it waits again) are kept, never lost.
      yield* Fiber.interrupt(worker)
      wake.signal()
      wake.signal()
      yield* wake.await
      expect(Option.isNone(yield* Effect.fork(wake.await).pipe(Effect.tap(() => settle), Effect.flatMap(Fiber.poll)))).toBe(true)
    }))
})

const notificationsAt = (url: string) =>
  Notifications.Default.pipe(
    Layer.provide(PgClient.layer({ url: Redacted.make(url) })),
    Layer.provide(Layer.succeed(DatabaseUrl, Redacted.make(url)))
  )

describe("LISTEN dispatch", () => {
  it.scopedLive("hands each channel's messages to its handlers only, and a Resync to all after the connection is lost", () =>
    Effect.gen(function*() {
      const url = yield* testDatabaseUrl
      const notifications = yield* Effect.provide(Notifications, yield* Layer.build(notificationsAt(url)))
      const heardA: Array<Notification> = []
      const heardB: Array<Notification> = []
      yield* notifications.on("wake_a", (event) => heardA.push(event))
      yield* notifications.on("wake_b", (event) => heardB.push(event))
      const messages = (heard: Array<Notification>) => heard.filter((event) => event._tag === "Message")
      const resyncs = (heard: Array<Notification>) => heard.filter((event) => event._tag === "Resync").length

      // Probe until the connection is up and LISTENing (it connects in the background).
      yield* eventuallyHolds(
        Effect.zipRight(query(url, "select pg_notify('wake_a', 'probe')"), Effect.sync(() => messages(heardA).length)),
        (n) => n > 0
      )
      yield* query(url, "select pg_notify('wake_a', 'one'), pg_notify('wake_b', 'two')")
      yield* eventuallyHolds(Effect.sync(() => messages(heardB).length), (n) => n > 0)
      expect(messages(heardA).map((event) => event._tag === "Message" && event.payload)).toContain("one")
      expect(messages(heardB)).toEqual([{ _tag: "Message", channel: "wake_b", payload: "two", local: false }])

      // The listening backend is killed: it reconnects, everyone hears Resync, then messages again.
      const before = [resyncs(heardA), resyncs(heardB)]
      yield* query(url, "select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query ilike 'listen%'")
      yield* eventuallyHolds(Effect.sync(() => resyncs(heardB)), (n) => n > before[1]!, 10_000)
      expect([resyncs(heardA), resyncs(heardB)]).toEqual([before[0]! + 1, before[1]! + 1])
      yield* eventuallyHolds(
        Effect.zipRight(query(url, "select pg_notify('wake_b', 'after')"), Effect.sync(() => messages(heardB).length)),
        (n) => n > 1,
        10_000
      )
      expect(yield* notifications.isListening).toBe(true)
    }))
})
