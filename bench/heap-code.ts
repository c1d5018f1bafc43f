/**
 * What the "(code)" a load added is: the new code-type objects of AFTER (not in BEFORE, by
 * snapshot id), grouped by name (V8 names code objects after their kind and function), with the
 * total per call. Compiled code is charged per call by bench/media.ts's heap reading, though it
 * is compiled once: this says whether it is bytecode of functions first run during the load or
 * optimised code.
 *
 *   npx tsx bench/heap-code.ts BEFORE.heapsnapshot AFTER.heapsnapshot CALLS [TOP=30]
 */
import { loadHeapSnapshot } from "./heap-snapshot.js"

const [beforeFile, afterFile, callsArg, topArg] = process.argv.slice(2)
if (beforeFile === undefined || afterFile === undefined || callsArg === undefined) {
  throw new Error("usage: heap-code.ts BEFORE AFTER CALLS [TOP]")
}
const calls = Number(callsArg)
const seen = new Set<number>()
{
  const before = loadHeapSnapshot(beforeFile)
  for (let n = 0; n < before.count; n++) seen.add(before.id(n))
}
const heap = loadHeapSnapshot(afterFile)
const groups = new Map<string, { count: number; size: number }>()
let total = 0
for (let n = 0; n < heap.count; n++) {
  if (heap.type(n) !== "code" || seen.has(heap.id(n))) continue
  const name = heap.name(n)
  const key = name.length > 90 ? name.slice(0, 90) + "…" : name
  const group = groups.get(key) ?? { count: 0, size: 0 }
  group.count++
  group.size += heap.selfSize(n)
  total += heap.selfSize(n)
  groups.set(key, group)
}
console.log(`new code objects: ${(total / 1024).toFixed(1)} KB, ${(total / 1024 / calls).toFixed(2)} KB per call`)
console.log("| name | objects | KB |\n|---|---|---|")
const rows = [...groups].sort((a, b) => b[1].size - a[1].size).slice(0, Number(topArg ?? 30))
for (const [key, group] of rows) console.log(`| ${key.replace(/\|/g, "\\|")} | ${group.count} | ${(group.size / 1024).toFixed(1)} |`)
