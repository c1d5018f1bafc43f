/**
 * What a suspended fiber keeps, from a heap snapshot: for the fibers with the longest stacks,
 * each stack frame's kind (`_op`) and the functions it holds with their file and line, so a
 * per-call fiber's continuations can be traced to the code that pushed them.
 *
 *   npx tsx bench/heap-fibers.ts FILE.heapsnapshot [FIBERS=1]
 */
import { loadHeapSnapshot } from "./heap-snapshot.js"

const [file, fibersArg] = process.argv.slice(2)
if (file === undefined) throw new Error("usage: heap-fibers.ts FILE [FIBERS]")
const want = Number(fibersArg ?? 1)
const heap = loadHeapSnapshot(file)
const { child, name, out, type } = heap

const where = (closure: number) => {
  const shared = child(closure, "shared")
  const script = shared === undefined ? undefined : child(shared, "script_or_debug_info")
  const path = script === undefined ? "?" : name(script).replace(/^.*node_modules\//, "").replace(/^.*\/dist\//, "")
  return `${name(closure) || "(anon)"}@${path}:${heap.line(closure) ?? "?"}`
}
const describe = (n: number): string => {
  if (type(n) === "closure") return where(n)
  const parts = [name(n)]
  for (const e of out(n)) {
    if (e.name === "_op" && type(e.to) === "string") parts.push(`_op=${name(e.to)}`)
    if (e.name.startsWith("effect_instruction_i") && type(e.to) === "closure") parts.push(`${e.name.slice(-2)}=${where(e.to)}`)
    if (e.name === "op" || e.name === "patch") parts.push(`${e.name}=${name(e.to)}`)
  }
  return parts.join(" ")
}

const fibers: Array<{ n: number; frames: Array<number> }> = []
for (let n = 0; n < heap.count; n++) {
  if (name(n) !== "FiberRuntime" || type(n) !== "object") continue
  const stack = child(n, "_stack")
  if (stack === undefined) continue
  const frames = [...out(stack)].filter((e) => e.type === "element" && type(e.to) !== "hidden").map((e) => e.to)
  fibers.push({ n, frames })
}
fibers.sort((a, b) => b.frames.length - a.frames.length)
const lengths = new Map<number, number>()
for (const f of fibers) lengths.set(f.frames.length, (lengths.get(f.frames.length) ?? 0) + 1)
console.log(`${fibers.length} fibers; stack length: count = ${[...lengths].sort((a, b) => b[0] - a[0]).map(([l, c]) => `${l}: ${c}`).join(", ")}`)
for (const fiber of fibers.slice(0, want)) {
  console.log(`\nfiber #${fiber.n} (${fiber.frames.length} frames, innermost last):`)
  fiber.frames.forEach((frame, i) => console.log(`${String(i).padStart(3)} ${describe(frame)}`))
}
