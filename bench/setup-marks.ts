/**
 * The slowest calls of a burst lined up with what held an event loop meanwhile: the target's
 * collections and blocks (bench/loop-marks.mjs, preloaded into it, writes them to its stderr) and
 * the load generator's own blocks (measured here the same way). bench/setup.ts `--marks`.
 */
import { performance } from "node:perf_hooks"

/** An interval of wall-clock time (ms since the epoch) during which a loop was held. */
export interface Mark {
  readonly what: string
  readonly start: number
  readonly ms: number
  /** With LOOP_MARK_SCHED=1, a block's split: ms the main thread ran, ms it waited for a CPU. */
  readonly ran?: number
  readonly waited?: number
}

/** Collects the LOOPMARK lines of a target's output, chunk by chunk (a line may span two chunks). */
export const markReader = () => {
  const marks: Array<Mark> = []
  let partial = ""
  return {
    marks,
    read: (chunk: string) => {
      const lines = (partial + chunk).split("\n")
      partial = lines.pop()!
      for (const line of lines) {
        const match = /^LOOPMARK (\w+) (\S+) ([\d.]+) ([\d.]+)(?: ([\d.]+) ([\d.]+))?$/.exec(line)
        if (match === null) continue
        const split = match[5] === undefined ? {} : { ran: Number(match[5]), waited: Number(match[6]) }
        marks.push({ what: match[1] === "gc" ? `gc ${match[2]}` : "block", start: Number(match[3]), ms: Number(match[4]), ...split })
      }
    }
  }
}

/** The generator's own blocks longer than `thresholdMs`, from a 1 ms timer, until stopped. */
export const generatorBlocks = (thresholdMs = 3) => {
  const marks: Array<Mark> = []
  let last = performance.now()
  const timer = setInterval(() => {
    const now = performance.now()
    const blocked = now - last - 1
    if (blocked > thresholdMs) marks.push({ what: "generator block", start: performance.timeOrigin + last + 1, ms: blocked })
    last = now
  }, 1)
  return { marks, stop: () => clearInterval(timer) }
}

/** A call's step as wall-clock times: sent and answered. */
export interface Step { readonly sent: number; readonly ms: number }

const overlap = (mark: Mark, step: Step) =>
  Math.max(0, Math.min(mark.start + mark.ms, step.sent + step.ms) - Math.max(mark.start, step.sent))

/**
 * One line per slowest step (the worst 2 %, at least 4): its latency and, by kind, how many ms
 * of it the target's collections, the target's blocks (a block includes any collection in it)
 * and the generator's blocks overlapped; then the same sums over every step.
 */
export const attribute = (name: string, steps: Array<Step>, marks: ReadonlyArray<Mark>) => {
  const sums = (step: Step) => {
    const by = new Map<string, number>()
    for (const mark of marks) {
      const ms = overlap(mark, step)
      if (ms > 0) by.set(mark.what, (by.get(mark.what) ?? 0) + ms)
      // Of a block's overlap, the share its thread spent waiting for a CPU (LOOP_MARK_SCHED=1).
      const waitedShare = mark.waited === undefined ? 0 : mark.waited / Math.max(mark.ran! + mark.waited, mark.ms)
      if (ms > 0 && waitedShare > 0) by.set(`${mark.what} waiting for a CPU`, (by.get(`${mark.what} waiting for a CPU`) ?? 0) + ms * waitedShare)
    }
    return by
  }
  const show = (by: Map<string, number>) =>
    [...by].sort((a, b) => b[1] - a[1]).map(([what, ms]) => `${what} ${ms.toFixed(1)}`).join(", ") || "nothing over 3 ms"
  const worst = [...steps].sort((a, b) => b.ms - a.ms).slice(0, Math.max(4, Math.ceil(steps.length * 0.02)))
  const lines = worst.map((step) => `  ${step.ms.toFixed(1)} ms: ${show(sums(step))}`)
  const all = new Map<string, number>()
  let touched = 0
  for (const step of steps) {
    const by = sums(step)
    if (by.size > 0) touched++
    for (const [what, ms] of by) all.set(what, (all.get(what) ?? 0) + ms)
  }
  const kinds = new Map<string, { count: number; ms: number; max: number; ran: number; waited: number }>()
  for (const mark of marks) {
    const k = kinds.get(mark.what) ?? { count: 0, ms: 0, max: 0, ran: 0, waited: 0 }
    kinds.set(mark.what, {
      count: k.count + 1,
      ms: k.ms + mark.ms,
      max: Math.max(k.max, mark.ms),
      ran: k.ran + (mark.ran ?? 0),
      waited: k.waited + (mark.waited ?? 0)
    })
  }
  const split = (k: { ran: number; waited: number }) =>
    k.ran + k.waited > 0 ? `; the thread ran ${k.ran.toFixed(0)} ms, waited for a CPU ${k.waited.toFixed(0)} ms` : ""
  return `${name}: the slowest ${worst.length} of ${steps.length}, overlapped by (ms):\n${lines.join("\n")}\n` +
    `  all ${steps.length}: ${touched} overlapped something; ${show(all)}\n` +
    `  marks in the burst: ${[...kinds].map(([what, k]) => `${what} ${k.count} x (${k.ms.toFixed(0)} ms, max ${k.max.toFixed(1)}${split(k)})`).join(", ")}`
}

/** A burst's calls as bench/setup.ts times them: sent at (epoch ms) and how long each step took. */
interface CallTimes { readonly sent?: number; readonly webhook?: number; readonly upgradeSent?: number; readonly accepted?: number }

/** `attribute` for the webhook and the start of every call of a burst. */
export const attributeBurst = (name: string, calls: ReadonlyArray<CallTimes>, marks: ReadonlyArray<Mark>) => {
  const steps = (pick: (t: CallTimes) => Step | undefined) => calls.map(pick).filter((s): s is Step => s !== undefined)
  return [
    attribute(`${name} webhook -> TwiML`, steps((t) => t.webhook === undefined ? undefined : { sent: t.sent!, ms: t.webhook }), marks),
    attribute(`${name} upgrade -> start accepted`, steps((t) => t.accepted === undefined ? undefined : { sent: t.upgradeSent!, ms: t.accepted }), marks)
  ].join("\n")
}
