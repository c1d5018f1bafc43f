/**
 * Event-loop stalls read from a `--cpu-prof` profile as a timeline: every stretch of consecutive
 * busy samples (no `(idle)` sample between them) longer than `--min-ms` is one stall, i.e. time a
 * waiting webhook or upgrade could not be served. Each stall is attributed by sample: GC, V8's
 * `(program)` (compiling, native), or the deepest frame of our code (`dist/<Domain>/<Module>`),
 * else the package at the leaf. Take the profile with a short interval so stalls resolve:
 *
 *   npx tsx bench/setup.ts --rates=50 --seconds=4 --targets=service --profile=DIR --node-flags="--cpu-prof-interval=100"
 *   npx tsx bench/stalls.ts DIR/<file>.cpuprofile [--min-ms=3] [--from-s=0] [--to-s=1e9] [--list=40]
 */
import * as fs from "node:fs"

interface CallFrame { readonly functionName: string; readonly url: string; readonly lineNumber: number }
interface ProfileNode { readonly id: number; readonly callFrame: CallFrame; readonly children?: Array<number> }
interface Profile {
  readonly nodes: Array<ProfileNode>
  readonly startTime: number
  readonly samples: Array<number>
  readonly timeDeltas: Array<number>
}

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const file = process.argv.slice(2).find((a) => !a.startsWith("--"))
if (file === undefined) throw new Error("usage: npx tsx bench/stalls.ts FILE.cpuprofile [--min-ms=3]")
const minMs = Number(arg("min-ms", "3"))
const fromS = Number(arg("from-s", "0"))
const toS = Number(arg("to-s", "1e9"))
const listed = Number(arg("list", "40"))

const profile = JSON.parse(fs.readFileSync(file, "utf8")) as Profile
const byId = new Map(profile.nodes.map((node) => [node.id, node]))
const parent = new Map<number, number>()
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)

const isOurs = (url: string) => url.includes("/dist/") && !url.includes("node_modules/")
const moduleOf = (url: string) => {
  if (isOurs(url)) return `src:${url.slice(url.lastIndexOf("/dist/") + 6).replace(/\.js$/, "")}`
  const modules = url.lastIndexOf("node_modules/")
  if (modules >= 0) {
    const parts = url.slice(modules + 13).split("/")
    return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!
  }
  if (url.startsWith("node:")) return url
  return url === "" ? "(native)" : url
}

/** What one sample was doing: GC, V8 itself, or the deepest of our modules on its stack (else its leaf's package). */
const labelCache = new Map<number, { readonly what: string; readonly task: string }>()
const label = (id: number) => {
  const cached = labelCache.get(id)
  if (cached !== undefined) return cached
  const stack: Array<CallFrame> = []
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!.callFrame)
  const leaf = stack[0]!
  const task = stack.length >= 2 ? `${stack[stack.length - 2]!.functionName || "(anonymous)"} ${moduleOf(stack[stack.length - 2]!.url)}` : ""
  let what: string
  if (leaf.functionName === "(garbage collector)") what = "GC"
  else if (leaf.functionName === "(program)") what = "(program)"
  else if (leaf.functionName === "(idle)") what = "(idle)"
  else {
    const ours = stack.find((frame) => isOurs(frame.url))
    what = ours !== undefined ? `${moduleOf(ours.url)}` : `[${moduleOf(leaf.url)}] ${leaf.functionName}`
  }
  const result = { what, task }
  labelCache.set(id, result)
  return result
}

interface Stall { readonly startMs: number; ms: number; wallMs: number; readonly parts: Map<string, number>; readonly tasks: Map<string, number> }
const add = (map: Map<string, number>, key: string, ms: number) => map.set(key, (map.get(key) ?? 0) + ms)

const stalls: Array<Stall> = []
let current: Stall | undefined
// A sample's wall-clock gap includes time the thread was descheduled (other processes on the box):
// count at most twice the sampling interval per sample, so a stall's length is the thread's own work.
const interval = [...profile.timeDeltas].sort((a, b) => a - b)[Math.floor(profile.timeDeltas.length / 2)]!
let time = profile.startTime
const busyTotal = new Map<string, number>()
/** A piece: consecutive busy samples with the same label, i.e. one thing that held the loop. */
interface Piece { readonly what: string; readonly atS: number; ms: number; readonly leaves: Map<string, number> }
const pieces: Array<Piece> = []
let piece: Piece | undefined
const pieceMinMs = Number(arg("piece-ms", "2"))
/**
 * A turn (approximately): a callback entered from the loop (socket read, timer, immediate) and the
 * microtasks drained after it. It starts at a sample whose entry frame is not the microtask queue,
 * GC or V8 and differs from the previous sample's (two reads in a row on different sockets stay one).
 */
interface Turn { readonly atS: number; ms: number; entry: string; readonly parts: Map<string, number> }
const turns: Array<Turn> = []
let turn: Turn | undefined
let lastTask = ""
const CONTINUES = /^(processTicksAndRejections|runMicrotasks|\(garbage collector\)|\(program\))/
const closePiece = () => {
  if (piece !== undefined && piece.ms >= pieceMinMs) pieces.push(piece)
  piece = undefined
}
const leafOf = (id: number) => {
  const frame = byId.get(id)!.callFrame
  return `${frame.functionName || "(anonymous)"} ${moduleOf(frame.url)}:${frame.lineNumber + 1}`
}
for (let i = 0; i < profile.samples.length; i++) {
  time += profile.timeDeltas[i]!
  const next = i + 1 < profile.samples.length ? time + profile.timeDeltas[i + 1]! : time
  const wallMs = (next - time) / 1000
  const ms = Math.min(wallMs, (2 * interval) / 1000)
  const atS = (time - profile.startTime) / 1e6
  const { what, task } = label(profile.samples[i]!)
  if (what === "(idle)" || atS < fromS || atS > toS) {
    if (current !== undefined && current.ms >= minMs) stalls.push(current)
    current = undefined
    closePiece()
    if (turn !== undefined) turns.push(turn)
    turn = undefined
    lastTask = ""
    continue
  }
  if (turn === undefined || (!CONTINUES.test(task) && task !== lastTask)) {
    if (turn !== undefined) turns.push(turn)
    turn = { atS, ms: 0, entry: task, parts: new Map() }
  }
  if (!CONTINUES.test(task)) lastTask = task
  turn.ms += ms
  add(turn.parts, what, ms)
  if (piece?.what !== what) {
    closePiece()
    piece = { what, atS, ms: 0, leaves: new Map() }
  }
  piece.ms += ms
  add(piece.leaves, leafOf(profile.samples[i]!), ms)
  add(busyTotal, what, ms)
  current ??= { startMs: (time - profile.startTime) / 1000, ms: 0, wallMs: 0, parts: new Map(), tasks: new Map() }
  current.ms += ms
  current.wallMs += wallMs
  add(current.parts, what, ms)
  add(current.tasks, task, ms)
}
if (current !== undefined && current.ms >= minMs) stalls.push(current)
closePiece()

const top = (map: Map<string, number>, n: number) =>
  [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ")

console.log(`${file}: ${stalls.length} stalls >= ${minMs} ms in ${fromS}-${Math.min(toS, time / 1e6 - profile.startTime / 1e6).toFixed(1)} s, ` +
  `${stalls.reduce((sum, s) => sum + s.ms, 0).toFixed(0)} ms in all; busy time by part: ${top(busyTotal, Number(arg("parts", "12")))}`)
const inStalls = new Map<string, number>()
for (const stall of stalls) for (const [k, v] of stall.parts) add(inStalls, k, v)
console.log(`time inside those stalls by part (ms): ${top(inStalls, 20)}`)
const sizes = [3, 5, 10, 20, 50].map((edge) => `>=${edge} ms: ${stalls.filter((s) => s.ms >= edge).length}`).join(", ")
console.log(`stalls by length: ${sizes}\n`)
console.log(`sampling interval ${interval} us; ms = the thread's own work (each sample capped at 2 intervals), wall = as the clock saw it\n`)
console.log("| at s | ms | wall ms | parts (ms) | tasks (ms) |\n|---|---|---|---|---|")
for (const stall of [...stalls].sort((a, b) => b.ms - a.ms).slice(0, listed)) {
  console.log(`| ${(stall.startMs / 1000).toFixed(3)} | ${stall.ms.toFixed(1)} | ${stall.wallMs.toFixed(1)} | ${top(stall.parts, 5)} | ${top(stall.tasks, 3)} |`)
}

const pieceTotals = new Map<string, { count: number; ms: number }>()
for (const p of pieces) {
  const t = pieceTotals.get(p.what) ?? { count: 0, ms: 0 }
  pieceTotals.set(p.what, { count: t.count + 1, ms: t.ms + p.ms })
}
console.log(`\npieces >= ${pieceMinMs} ms (one label held the loop without a break), by label:`)
for (const [what, t] of [...pieceTotals].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) {
  console.log(`  ${what}: ${t.count} pieces, ${t.ms.toFixed(1)} ms`)
}
console.log("\n| at s | ms | piece | leaves (ms) |\n|---|---|---|---|")
for (const p of [...pieces].sort((a, b) => b.ms - a.ms).slice(0, listed)) {
  console.log(`| ${p.atS.toFixed(3)} | ${p.ms.toFixed(1)} | ${p.what} | ${top(p.leaves, 4)} |`)
}

if (turn !== undefined) turns.push(turn)
const longTurns = turns.filter((t) => t.ms >= minMs)
console.log(`\nturns >= ${minMs} ms: ${longTurns.length} of ${turns.length}; by length: ` +
  [3, 5, 10, 20].map((edge) => `>=${edge} ms: ${turns.filter((t) => t.ms >= edge).length}`).join(", "))
const turnParts = new Map<string, number>()
for (const t of longTurns) for (const [k, v] of t.parts) add(turnParts, k, v)
console.log(`time inside those turns by part (ms): ${top(turnParts, 20)}`)
console.log("\n| at s | ms | entry | parts (ms) |\n|---|---|---|---|")
for (const t of [...longTurns].sort((a, b) => b.ms - a.ms).slice(0, listed)) {
  console.log(`| ${t.atS.toFixed(3)} | ${t.ms.toFixed(1)} | ${t.entry} | ${top(t.parts, 6)} |`)
}
