// Preloaded into a benchmark's target (`node --import ./bench/loop-marks.mjs ...`): writes a line to
// stderr for every garbage collection and every event-loop block longer than LOOP_MARK_MS (3), with
// wall-clock start times (ms since the epoch), so bench/setup.ts can line the slowest calls up
// with what held the loop. A 1 ms timer measures the blocks: its own cost is ~1 % of a core.
import { PerformanceObserver, performance } from "node:perf_hooks"

const threshold = Number(process.env.LOOP_MARK_MS ?? "3")
const origin = performance.timeOrigin
// perf_hooks.constants.NODE_PERFORMANCE_GC_*: a forced `gc()` and V8's mark-compacts are "major".
const kinds = { 1: "minor", 4: "major", 8: "incremental", 16: "weakcb" }

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    process.stderr.write(`LOOPMARK gc ${kinds[entry.detail?.kind] ?? entry.detail?.kind} ${(origin + entry.startTime).toFixed(2)} ${entry.duration.toFixed(2)}\n`)
  }
}).observe({ entryTypes: ["gc"] })

let last = performance.now()
setInterval(() => {
  const now = performance.now()
  const blocked = now - last - 1
  if (blocked > threshold) process.stderr.write(`LOOPMARK block - ${(origin + last + 1).toFixed(2)} ${blocked.toFixed(2)}\n`)
  last = now
}, 1).unref()
