import { Clock, Config, Effect, Layer, Schedule } from "effect"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { SetupLoad } from "../Limits/SetupLoad.js"
import { LiveCalls } from "../LiveCalls/LiveCalls.js"

/** How often the process looks at whether it has gone idle (two cheap reads: CPU time and heap size). */
const CHECK_EVERY = "2 seconds"
/** Idle: less CPU than this share of one core over the last interval (an idle replica's loops use ~1-2 %). */
const IDLE_CPU_SHARE = 0.05
/** Heap committed past what the last collection left: below this a collection is not worth its pause. */
const GROWTH_BYTES = 16 * 1024 * 1024
/** V8 judges the allocation rate over its last 5 s: the second collection waits that long after the first. */
const QUIET_BEFORE_SHRINK_MS = 5_500
/**
 * No collection within this long of a call set-up (webhook to authenticated `start`): a set-up is
 * not yet a held call, and the calls that follow one (a burst, a trickle) would meet the full
 * collection's pause: 50-60 ms on a quiet box, 130-600 ms loaded (bench/RESULTS.md, "Event-loop
 * stalls during a set-up burst").
 */
const SETUP_QUIET_MS = 10_000

/** V8's `gc`: no argument collects the whole heap (Node 20 ignores an options object: no collection at all). */
type Collect = () => void

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
 * A collection that gave back at least this much committed heap is followed by another on the
 * next quiet check: V8 compacts only part of a fragmented old generation per collection.
 */
const RELEASE_WORTH_BYTES = 4 * 1024 * 1024

/**
 * The idle check, repeated every CHECK_EVERY: `callsHeld` is how many calls this replica runs
 * (none may be paused for), `setUpQuietMs` how long since its last call set-up (SetupLoad.quietMs:
 * 0 while one is in flight). A quiet spell after growth gets full collections until they stop
 * giving memory back, and one more 5.5 quiet seconds after the first. The first frees the
 * garbage load left, but V8 keeps most emptied or sparse old-space pages committed (issue 13:
 * 51 MB live in 136 MB committed after it; a synthetic heap with 1 object in 20 surviving
 * needed three collections to release its pages); the one after 5.5 s also shrinks the young
 * generation (up to 32 MB), which V8 does only once it has seen little allocation for 5 s.
 */
export const idleReclaim = (callsHeld: Effect.Effect<number>, setUpQuietMs: Effect.Effect<number>) =>
  Effect.gen(function*() {
    const exposed = yield* exposedGc
    let cpuBefore = process.cpuUsage()
    let checkedAt = yield* Clock.currentTimeMillis
    let heapAfterCollection = 0
    /** When the current quiet spell's first collection ran; undefined outside a spell. */
    let spellStartedAt: number | undefined
    let releasing = false

    const check = Effect.gen(function*() {
      const cpu = process.cpuUsage(cpuBefore)
      const now = yield* Clock.currentTimeMillis
      const cpuShare = (cpu.user + cpu.system) / 1000 / Math.max(1, now - checkedAt)
      cpuBefore = process.cpuUsage()
      checkedAt = now
      if (cpuShare > IDLE_CPU_SHARE) return
      const committed = process.memoryUsage().heapTotal
      const grown = committed >= heapAfterCollection + GROWTH_BYTES
      const settled = spellStartedAt !== undefined && now - spellStartedAt >= QUIET_BEFORE_SHRINK_MS
      if (!grown && !releasing && !settled) return
      if ((yield* callsHeld) > 0 || (yield* setUpQuietMs) < SETUP_QUIET_MS) return
      const gc = yield* exposed
      gc()
      heapAfterCollection = process.memoryUsage().heapTotal
      releasing = heapAfterCollection <= committed - RELEASE_WORTH_BYTES
      if (grown) spellStartedAt = now
      else if (settled && !releasing) spellStartedAt = undefined
      cpuBefore = process.cpuUsage()
      checkedAt = yield* Clock.currentTimeMillis
    })
    return yield* check.pipe(Effect.repeat(Schedule.spaced(CHECK_EVERY)))
  })

/**
 * V8 sizes the old generation's next limit from the last full collection: live size times a factor
 * it picks from collection speed over allocation rate. The reclaim's collections run when almost
 * nothing allocates, so the factor comes out near its floor (limit ~ live + 8 MB); when load
 * returns, the free room is soon below the young generation's size and V8 starts incremental
 * marking again after every collection (4-11 mark-compacts per 10 s, each 3-15 ms with the marker
 * on the other core: the list pages' p99 at 500/s went from 6-12 ms to 33-95 ms; bench/RESULTS.md,
 * stop 36, helpers listtail and reducer). A fixed factor of 2 leaves room for a load burst; it
 * sets only the limit, not what is committed, so the reclaim's memory return is unchanged.
 */
export const roomAfterCollections = Effect.sync(() => v8.setFlagsFromString("--heap-growing-percent=100"))

/**
 * Gives memory back when the replica goes idle. V8 grows its heap under load (and during
 * start-up: module loading fills a 32 MB young generation) and only collects again when
 * something allocates; an idle process allocates almost nothing, so without this it keeps
 * its peak size for good (issue 13: 204 MB idle, 585 MB 30 s after a REST run). Not while a
 * call runs on this replica (a full collection pauses everything for tens of milliseconds,
 * which a caller would hear) or has set one up in the last SETUP_QUIET_MS, nor while the process
 * is busy (then V8's own collector works).
 * IDLE_MEMORY_RECLAIM=false turns it off (and leaves V8's heap growing factor its own).
 */
export const MemoryReclaimLive = Layer.scopedDiscard(Effect.gen(function*() {
  const enabled = yield* Config.boolean("IDLE_MEMORY_RECLAIM").pipe(Config.withDefault(true))
  if (!enabled) return
  yield* roomAfterCollections
  const calls = yield* LiveCalls
  const setupLoad = yield* SetupLoad
  yield* idleReclaim(calls.heldCount, Effect.sync(setupLoad.quietMs)).pipe(
    Effect.catchAll((error) =>
      Effect.logWarning("idle memory reclaim unavailable; the heap stays as large as load made it").pipe(
        Effect.annotateLogs({ error: String(error.error) })
      )
    ),
    Effect.forkScoped
  )
})).pipe(
  // The one instance the webhooks and media streams count their set-ups in (layers are shared by reference).
  Layer.provide(SetupLoad.Default)
)
