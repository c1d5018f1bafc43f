/**
 * Who keeps objects of one kind alive, from a heap snapshot (bench/media.ts --snapshots=DIR):
 * for every object whose constructor / function name is NAME (or whose type is T, for
 * `type:T`, e.g. `type:array`), its chain of retainers DEPTH levels up (weak edges skipped),
 * counted by chain with the objects' self size, largest first.
 *
 *   npx tsx bench/heap-retainers.ts FILE.heapsnapshot NAME [DEPTH=6] [TOP=15]
 */
import { loadHeapSnapshot } from "./heap-snapshot.js"

const [file, wanted, depthArg, topArg] = process.argv.slice(2)
if (file === undefined || wanted === undefined) throw new Error("usage: heap-retainers.ts FILE NAME [DEPTH] [TOP]")
const depth = Number(depthArg ?? 6)
const top = Number(topArg ?? 15)

const heap = loadHeapSnapshot(file)
const retainers = heap.retainers()
const byType = wanted.startsWith("type:") ? wanted.slice(5) : undefined
const matches = (n: number) => byType !== undefined ? heap.type(n) === byType : heap.name(n) === wanted

const label = (n: number) => {
  const type = heap.type(n)
  const name = heap.name(n)
  return `${type === "object" ? "" : type + " "}${name.length > 40 ? name.slice(0, 40) + "…" : name}`
}
const edgeLabel = (at: number) => {
  const { name, type } = heap.edge(at)
  return type === "element" || type === "hidden" ? `[${name}]` : name
}

/** `SKIP=a,b`: retainer edges named so (e.g. a fiber's own closures' `this`) are not followed. */
const skip = new Set((process.env.SKIP ?? "").split(",").filter((x) => x !== ""))
const chains = new Map<string, { n: number; bytes: number }>()
let matched = 0
let matchedBytes = 0
for (let n = 0; n < heap.count; n++) {
  if (!matches(n)) continue
  matched++
  matchedBytes += heap.selfSize(n)
  // Follow the first retainer that is not the node itself, DEPTH levels.
  const parts: Array<string> = []
  let at = n
  const seen = new Set<number>([n])
  for (let level = 0; level < depth; level++) {
    let next: { from: number; at: number } | undefined
    for (const retainer of retainers.of(at)) {
      if (!seen.has(retainer.from) && !skip.has(edgeLabel(retainer.at)) && !skip.has(label(retainer.from))) {
        next = retainer
        break
      }
    }
    if (next === undefined) break
    parts.push(`.${edgeLabel(next.at)} <- ${label(next.from)}`)
    seen.add(next.from)
    at = next.from
  }
  const chain = parts.join(" ")
  const entry = chains.get(chain) ?? { n: 0, bytes: 0 }
  entry.n++
  entry.bytes += heap.selfSize(n)
  chains.set(chain, entry)
}
console.log(`${matched} objects (${matchedBytes} bytes) matching ${wanted}`)
for (const [chain, { n, bytes }] of [...chains].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) {
  console.log(`${n}\t${bytes}\t${chain}`)
}
