/**
 * `--thread-cpu`: the target's CPU per second of the burst, its main thread apart from its other threads
 * (V8's compile and GC helpers, libuv's pool), read from /proc every 100 ms. CPU time, not wall time: a
 * profile's samples also count the time the thread waited for a core, which on this shared box is most of
 * what differs between runs. Per call arriving in that second, so a first burst's first-time cost (code the
 * JIT has not optimised yet) shows as its first seconds dearer than its last (bench/RESULTS.md, stop 40).
 */
import * as fs from "node:fs"
import { performance } from "node:perf_hooks"

const TICKS_PER_SECOND = 100 // CLK_TCK on Linux

const threadTicks = (pid: number): { readonly main: number; readonly others: number } => {
  let main = 0
  let others = 0
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8")
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      const ticks = Number(fields[11]) + Number(fields[12])
      if (Number(tid) === pid) main += ticks
      else others += ticks
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return { main, others }
}

export const threadCpu = (pid: number) => {
  const from = performance.now()
  const samples = [{ at: from, ...threadTicks(pid) }]
  const timer = setInterval(() => samples.push({ at: performance.now(), ...threadTicks(pid) }), 100)
  return {
    /** Per whole second from the start: ms of CPU per call arriving in that second (`rate` a second). */
    stop: (label: string, rate: number, seconds: number): string => {
      clearInterval(timer)
      samples.push({ at: performance.now(), ...threadTicks(pid) })
      const at = (s: number) => samples.reduce((best, x) => Math.abs(x.at - from - s * 1000) < Math.abs(best.at - from - s * 1000) ? x : best)
      const cells: Array<string> = []
      let mainEarly = 0
      let mainLate = 0
      for (let s = 0; s < seconds; s++) {
        const a = at(s)
        const b = at(s + 1)
        const main = ((b.main - a.main) * 1000) / TICKS_PER_SECOND / rate
        const others = ((b.others - a.others) * 1000) / TICKS_PER_SECOND / rate
        if (s < seconds / 2) mainEarly += main
        else mainLate += main
        cells.push(`${main.toFixed(2)}+${others.toFixed(2)}`)
      }
      const last = samples[samples.length - 1]!
      const rest = samples.find((x) => x.at - from >= seconds * 1000) ?? last
      const tail = ((last.main - rest.main) * 1000) / TICKS_PER_SECOND / (rate * seconds)
      return `${label}: thread CPU ms per arriving call, each second of the burst (main + other threads): ${cells.join(", ")}; ` +
        `main first half / second half ${(mainEarly / Math.ceil(seconds / 2)).toFixed(2)} / ${(mainLate / Math.floor(seconds / 2)).toFixed(2)}; ` +
        `main after the last arrival to the last greeting ${tail.toFixed(2)} per call`
    }
  }
}
