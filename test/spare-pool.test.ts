import { expect, it } from "@effect/vitest"
import { Effect, Metric } from "effect"
import * as M from "../src/Observability/Metrics.js"
import { SparePool } from "../src/Media/SparePool.js"

/** SparePool as plain code, without a server: what a call that asks for a spare is counted as. */

const missed = Metric.value(M.upstreamSpares.pipe(Metric.tagged("outcome", "missed"))).pipe(Effect.map((state) => state.count))

it.effect("a call whose URL is past the pool's limit of URLs is counted as a miss (it opens its own)", () =>
  Effect.gen(function*() {
    const pool = new SparePool({
      perUrl: 1,
      maxAgeMs: 60_000,
      idleMs: 60_000,
      connectTimeoutMs: 1_000,
      apiKey: "key",
      now: () => 0,
      draining: () => false
    })
    const before = yield* missed
    // Nothing listens on port 1: the spares' openings fail at once, nobody is left open.
    const urls = Array.from({ length: 20 }, (_, i) => `ws://127.0.0.1:1/v1/realtime?model=m${i}`)
    for (const url of urls) expect(pool.take(url)).toBeUndefined()
    pool.closeAll()
    expect((yield* missed) - before).toBe(urls.length)
  }))
