// Preloaded into a benchmark's target (`node --import ./bench/loop-marks.mjs ...`): writes a line to
// stderr for every garbage collection and every event-loop block longer than LOOP_MARK_MS (3), with
// wall-clock start times (ms since the epoch), so bench/setup.ts can line the slowest calls up
// with what held the loop. A 1 ms timer measures the blocks: its own cost is ~1 % of a core.
// LOOP_MARK_SCHED=1 adds to each block line how much of it the main thread ran and how much it
// waited for a CPU (runnable, not running: other processes held the cores), from the kernel's
// /proc/self/task/<pid>/schedstat read on every tick (a pread of a few µs).
import * as fs from "node:fs"
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

// The main thread's id is the process id.
const schedFd = process.env.LOOP_MARK_SCHED === "1" ? fs.openSync(`/proc/self/task/${process.pid}/schedstat`, "r") : undefined
const schedBuffer = Buffer.alloc(80)
/** [ns run on a CPU, ns waited on a run queue] so far. */
const sched = () => {
  const n = fs.readSync(schedFd, schedBuffer, 0, schedBuffer.length, 0)
  const text = schedBuffer.toString("latin1", 0, n)
  const space = text.indexOf(" ")
  return [Number(text.slice(0, space)), Number(text.slice(space + 1, text.indexOf(" ", space + 1)))]
}

let last = performance.now()
let lastSched = schedFd === undefined ? undefined : sched()
setInterval(() => {
  const now = performance.now()
  const blocked = now - last - 1
  const nowSched = schedFd === undefined ? undefined : sched()
  if (blocked > threshold) {
    const split = nowSched === undefined ? "" : ` ${((nowSched[0] - lastSched[0]) / 1e6).toFixed(2)} ${((nowSched[1] - lastSched[1]) / 1e6).toFixed(2)}`
    process.stderr.write(`LOOPMARK block - ${(origin + last + 1).toFixed(2)} ${blocked.toFixed(2)}${split}\n`)
  }
  last = now
  lastSched = nowSched
}, 1).unref()
