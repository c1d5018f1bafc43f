import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import * as v8 from "node:v8"
import { idleReclaim } from "../src/Health/MemoryReclaim.js"

/**
 * Issue 13: after a load run the replica's memory comes back near idle without anyone forcing
 * a collection. What load leaves is modelled here: ~150 MB of old-space objects of which 1 in
 * 20 stays reachable (a fragmented old generation, as list pages in flight leave it).
 */

const MB = 1024 * 1024
let survivors: Array<unknown> = []

/** Fills the old generation: everything is reachable until the end (so it is promoted), then 95 % is dropped. */
const loadLeftovers = () => {
  let garbage: Array<unknown> = []
  survivors = []
  for (let i = 0; i < 600_000; i++) {
    const row = { i, text: `transcript line ${i} `.repeat(4), cells: [i, i + 1, i + 2] }
    if (i % 20 === 0) survivors.push(row)
    else garbage.push(row)
  }
  garbage = []
  return garbage.length
}

const heap = () => process.memoryUsage()

/** The old generation: committed (what RSS pays for) and used. */
const oldSpace = () => {
  const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === "old_space")!
  return { committed: space.space_size, used: space.space_used_size }
}

/** The young generation's committed size (both semi-spaces). */
const youngCommitted = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space")!.space_size

/**
 * Grows the young generation to its largest: short-lived objects of which many outlive a
 * scavenge or two (a REST page's rows while it is written), as load under 500/s leaves it.
 */
const growYoungGeneration = () => {
  let window: Array<unknown> = []
  for (let i = 0; i < 6_000_000; i++) {
    window.push({ i, cells: [i] })
    if (window.length > 300_000) window = []
  }
  return window.length
}

/** Quiet checks of the reclaim, 2 s apart on the test clock (the process does nothing in between). */
const quietChecks = (checks: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < checks; i++) yield* TestClock.adjust("2 seconds")
  })

/** No call set-up for as long as anyone remembers. */
const longQuiet = Effect.succeed(Number.POSITIVE_INFINITY)

describe("idle memory reclaim", () => {
  it.effect("gives the committed heap back once quiet, not only the garbage in it", () =>
    Effect.gen(function*() {
      loadLeftovers()
      const loaded = heap()
      const reclaim = yield* Effect.fork(idleReclaim(Effect.succeed(0), longQuiet))
      yield* quietChecks(6)
      const after = heap()
      const old = oldSpace()
      yield* Fiber.interrupt(reclaim)
      // The leftovers are collected...
      expect(after.heapUsed).toBeLessThan(loaded.heapUsed - 60 * MB)
      // ...and the pages they leave sparse are given back: the old generation's committed size
      // comes back near what is live in it (one full and one young-only collection left ~150 MB
      // committed over ~40 live here, two full ones ~105).
      expect(old.committed - old.used).toBeLessThan(16 * MB)
      expect(survivors.length).toBe(30_000)
    }))

  it.effect("does not pause a replica that runs a call", () =>
    Effect.gen(function*() {
      loadLeftovers()
      const loaded = heap()
      const reclaim = yield* Effect.fork(idleReclaim(Effect.succeed(1), longQuiet))
      yield* quietChecks(6)
      const after = heap()
      yield* Fiber.interrupt(reclaim)
      expect(after.heapTotal).toBeGreaterThan(loaded.heapTotal - 16 * MB)
    }))

  it.effect("does not pause a replica setting up a call, and collects once the set-ups have been quiet a while", () =>
    Effect.gen(function*() {
      loadLeftovers()
      const loaded = heap()
      // A webhook or a stream before its `start` is in flight (SetupLoad.quietMs is 0), no call held yet.
      let setUpQuietMs = 0
      const reclaim = yield* Effect.fork(idleReclaim(Effect.succeed(0), Effect.sync(() => setUpQuietMs)))
      yield* quietChecks(6)
      const duringSetUp = heap()
      // The set-up ended 500 ms ago: a burst's next call may be on its way.
      setUpQuietMs = 500
      yield* quietChecks(3)
      const justAfter = heap()
      setUpQuietMs = 60_000
      yield* quietChecks(6)
      const quiet = heap()
      yield* Fiber.interrupt(reclaim)
      expect(duringSetUp.heapTotal).toBeGreaterThan(loaded.heapTotal - 16 * MB)
      expect(justAfter.heapTotal).toBeGreaterThan(loaded.heapTotal - 16 * MB)
      expect(quiet.heapUsed).toBeLessThan(loaded.heapUsed - 60 * MB)
      expect(survivors.length).toBe(30_000)
    }))

  it.effect("gives back a young generation left large, though the old one did not grow", () =>
    Effect.gen(function*() {
      // Load that promoted little: ~10 MB kept in the old generation (dropped below), a full young one.
      let kept: Array<unknown> = Array.from({ length: 100_000 }, (_, i) => ({ i, text: `kept row ${i}`.repeat(2) }))
      growYoungGeneration()
      const reclaim = yield* Effect.fork(idleReclaim(Effect.succeed(0), longQuiet))
      // The quiet spell the load's growth starts: two collections, then the heap looks settled.
      yield* quietChecks(6)
      // V8 has not shrunk the young generation: it saw a high allocation rate moments ago.
      expect(youngCommitted()).toBeGreaterThanOrEqual(16 * MB)
      // Old garbage below the growth threshold: only a collection the young generation starts frees it.
      kept = []
      const before = heap()
      yield* quietChecks(16)
      const after = heap()
      yield* Fiber.interrupt(reclaim)
      expect(kept).toHaveLength(0)
      expect(after.heapUsed).toBeLessThan(before.heapUsed - 6 * MB)
    }))
})
