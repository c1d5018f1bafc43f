/**
 * Diagnostic used for "Set-up pass 3" in bench/RESULTS.md (not wired in): counts fiber starts
 * and executed runtime operations, keyed by the continuation's source text and by the fiber
 * they ran on. To use: copy into src/, and in src/main.ts wrap the program:
 *   Effect.withRuntimeFlagsPatch(Effect.supervised(program, counting), RuntimeFlagsPatch.enable(RuntimeFlags.OpSupervision))
 * The counts go to FIBER_COUNT_FILE every 2 s; SIGUSR2 resets them (send it after a warm-up);
 * they freeze at SIGTERM so shutdown is not counted. Slows the service several-fold.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import { Effect, Supervisor } from "effect"
import * as fs from "node:fs"

const fibers = new Map<string, number>()
const ops = new Map<string, number>()
let totalFibers = 0
let totalOps = 0
const fiberKey = new WeakMap<object, string>()
const byFiber = new Map<string, number>()
const opsByFiber = new Map<string, Map<string, number>>()
const names = new WeakMap<Function, string>()
const snippet = (e: any): string => {
  const f = e?.effect_instruction_i0
  const g = e?.effect_instruction_i1
  const src = typeof g === "function" ? g : typeof f === "function" ? f : undefined
  if (src === undefined) return `${e?._op}|${e?.constructor?.name ?? ""}|${typeof e?.commit === "function" ? String(e.commit).replace(/\s+/g, " ").slice(0, 90) : ""}`
  let k = names.get(src)
  if (k === undefined) { k = `${e?._op}|${String(src).replace(/\s+/g, " ").slice(0, 110)}`; names.set(src, k) }
  return k
}
class Counting extends Supervisor.AbstractSupervisor<void> {
  value = Effect.void
  override onStart(_c: any, effect: any, parent: any, fiber: any): void {
    totalFibers++
    const pk = parent?._tag === "Some" ? (fiberKey.get(parent.value) ?? "?") : "root"
    const k = snippet(effect) + "  <<parent: " + pk.slice(0, 60)
    fiberKey.set(fiber, snippet(effect))
    fibers.set(k, (fibers.get(k) ?? 0) + 1)
  }
  override onEffect(f: any, effect: any): void {
    totalOps++
    const fk = fiberKey.get(f) ?? "?"
    byFiber.set(fk, (byFiber.get(fk) ?? 0) + 1)
    let m = opsByFiber.get(fk)
    if (m === undefined) opsByFiber.set(fk, m = new Map())
    const ok = snippet(effect)
    m.set(ok, (m.get(ok) ?? 0) + 1)
    const k = snippet(effect)
    ops.set(k, (ops.get(k) ?? 0) + 1)
  }
}
export const counting = new Counting()
const dump = () => {
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${String(v).padStart(8)} ${k}`).join("\n")
  fs.writeFileSync(process.env.FIBER_COUNT_FILE ?? "/tmp/wsetup/fibers.txt", `fibers ${totalFibers} ops ${totalOps}\n--- fibers\n${top(fibers, 60)}\n--- ops by fiber\n${top(byFiber, 40)}\n--- ops\n${top(ops, 150)}\n` + [...byFiber].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k]) => `\n=== ops of ${k}\n${top(opsByFiber.get(k)!, 120)}`).join("\n"))
}
let frozen = false
setInterval(() => { if (!frozen) dump() }, 2000).unref()
process.on("SIGTERM", () => { if (!frozen) { dump(); frozen = true } })
process.on("SIGUSR2", () => { fibers.clear(); ops.clear(); byFiber.clear(); opsByFiber.clear(); totalFibers = 0; totalOps = 0 })
