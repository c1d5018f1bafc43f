import { Config, Effect, Layer, Schedule } from "effect"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"

/** How often the process looks at whether it has gone idle (two cheap reads: CPU time and heap size). */
const CHECK_EVERY = "2 seconds"
/** Idle: less CPU than this share of one core over the last interval (an idle replica's loops use ~1-2 %). */
const IDLE_CPU_SHARE = 0.05
/** Heap committed past what the last collection left: below this a collection is not worth its pause. */
const GROWTH_BYTES = 16 * 1024 * 1024
/** V8 judges the allocation rate over its last 5 s: the young-only collection waits that long after the full one. */
const QUIET_BEFORE_SHRINK_MS = 5_500

/** V8's `gc`: no argument collects the whole heap, `true` the young generation only (Node 20 reads no options object). */
type Collect = (youngOnly?: true) => void

/**
 * V8's `gc`, synchronous. Node offers it only with `--expose-gc`, which a plain
 * `node dist/main.js` does not have: the flag is read when a context is created, so it is
 * set for the one context made here (the same thing as the `expose-gc` package), then unset.
 * (The inspector's HeapProfiler.collectGarbage, from a session in this same thread, never
 * answers and blocks the event loop: not usable.)
 */
const exposedGc = Effect.try(() => {
  v8.setFlagsFromString("--expose-gc")
  try {
    return vm.runInNewContext("gc") as Collect
  } finally {
    v8.setFlagsFromString("--no-expose-gc")
  }
}).pipe(Effect.cached)

/**
 * Gives memory back when the replica goes idle. V8 grows its heap under load (and during
 * start-up: module loading fills a 32 MB young generation) and only collects again when
 * something allocates; an idle process allocates almost nothing, so without this it keeps
 * its peak size for good (issue 13: 204 MB idle, 585 MB 30 s after a REST run). Not while a
 * call runs on this replica (a full collection pauses everything for tens of milliseconds,
 * which a caller would hear), nor while the process is busy (then V8's own collector works).
 * IDLE_MEMORY_RECLAIM=false turns it off.
 */
export const MemoryReclaimLive = Layer.scopedDiscard(Effect.gen(function*() {
  const enabled = yield* Config.boolean("IDLE_MEMORY_RECLAIM").pipe(Config.withDefault(true))
  if (!enabled) return
  const calls = yield* LiveCalls
  const exposed = yield* exposedGc
  let cpuBefore = process.cpuUsage()
  let checkedAt = performance.now()
  let heapAfterCollection = 0
  let fullCollectionAt: number | undefined

  const check = Effect.gen(function*() {
    const cpu = process.cpuUsage(cpuBefore)
    const now = performance.now()
    const cpuShare = (cpu.user + cpu.system) / 1000 / Math.max(1, now - checkedAt)
    cpuBefore = process.cpuUsage()
    checkedAt = now
    if (cpuShare > IDLE_CPU_SHARE) return
    const grown = process.memoryUsage().heapTotal >= heapAfterCollection + GROWTH_BYTES
    const shrinkYoung = fullCollectionAt !== undefined && now - fullCollectionAt >= QUIET_BEFORE_SHRINK_MS
    if (!grown && !shrinkYoung) return
    if ((yield* calls.heldCount) > 0) return
    const gc = yield* exposed
    // First the whole heap (the garbage load left). V8 shrinks the young generation (up to
    // 32 MB) at the end of any collection, but only when it has seen little allocation since
    // the one before, which the first one cannot know: a young-only collection (milliseconds)
    // after 5 quiet seconds more does it.
    if (grown) gc()
    else gc(true)
    fullCollectionAt = grown ? performance.now() : undefined
    heapAfterCollection = process.memoryUsage().heapTotal
    cpuBefore = process.cpuUsage()
    checkedAt = performance.now()
  })

  yield* check.pipe(
    Effect.repeat(Schedule.spaced(CHECK_EVERY)),
    Effect.catchAll((error) =>
      Effect.logWarning("idle memory reclaim unavailable; the heap stays as large as load made it").pipe(
        Effect.annotateLogs({ error: String(error.error) })
      )
    ),
    Effect.forkScoped
  )
}))
