/**
 * What owns the heap a load added, from two snapshots of one process (bench/media.ts
 * --snapshots=DIR: 0 calls, then N calls): every object of AFTER that BEFORE did not have (by
 * snapshot id) is charged to its nearest owner up the dominator tree, an owner being an object
 * whose constructor is one of OWNERS (or the top-most new object that dominates it, when no
 * owner does). Prints KB and objects per call by owner, largest first.
 *
 *   npx tsx bench/heap-owners.ts BEFORE.heapsnapshot AFTER.heapsnapshot CALLS [TOP=15]
 *   OWNERS=LiveCall,Bridge,... to name the owners (default: a call's parts, below)
 *   DETAIL=FiberRuntime: what that owner's share is, by kind and by the edge it is held by
 *   (BY=field: by the owner's own field it hangs from; UNDER=_stack: only what hangs from that field)
 */
import { loadHeapSnapshot } from "./heap-snapshot.js"

const [beforeFile, afterFile, callsArg, topArg] = process.argv.slice(2)
if (beforeFile === undefined || afterFile === undefined || callsArg === undefined) {
  throw new Error("usage: heap-owners.ts BEFORE AFTER CALLS [TOP]")
}
const calls = Number(callsArg)
const top = Number(topArg ?? 15)
const owners = new Set(
  (process.env.OWNERS ??
    "LiveCall,Bridge,CallRecorder,CallTelemetry,CallEvents,HeldCall,CallMonitor,TwilioSocket,RealtimeSocket," +
      "WebSocket,Receiver,Sender,Socket,TLSSocket,FiberRuntime,NativeSpan,ScopeImpl,CallFibers,StreamSetUp," +
      "BootstrapHandler,Playback,FrameWriter,Departure,ReadBatch").split(",")
)

const seen = new Set<number>()
{
  const before = loadHeapSnapshot(beforeFile)
  for (let n = 0; n < before.count; n++) seen.add(before.id(n))
}
const heap = loadHeapSnapshot(afterFile)
const count = heap.count

// Dominators (Cooper, Harvey and Kennedy's iteration over a reverse post-order from the root, node 0), weak edges skipped.
const order = new Int32Array(count).fill(-1) // node -> its place in reverse post-order
const byOrder: Array<number> = []
{
  const stack: Array<[number, Iterator<{ to: number; type: string }>]> = []
  const visited = new Uint8Array(count)
  const post: Array<number> = []
  visited[0] = 1
  stack.push([0, heap.out(0)[Symbol.iterator]()])
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!
    const next = top[1].next()
    if (next.done) {
      post.push(top[0])
      stack.pop()
      continue
    }
    const { to, type } = next.value
    if (type === "weak" || visited[to] === 1) continue
    visited[to] = 1
    stack.push([to, heap.out(to)[Symbol.iterator]()])
  }
  for (let i = post.length - 1; i >= 0; i--) {
    order[post[i]!] = byOrder.length
    byOrder.push(post[i]!)
  }
}
const retainers = heap.retainers()
const idom = new Int32Array(count).fill(-1)
idom[0] = 0
const intersect = (a: number, b: number) => {
  while (a !== b) {
    while (order[a]! > order[b]!) a = idom[a]!
    while (order[b]! > order[a]!) b = idom[b]!
  }
  return a
}
for (let changed = true; changed;) {
  changed = false
  for (let i = 1; i < byOrder.length; i++) {
    const n = byOrder[i]!
    let dom = -1
    for (const { from } of retainers.of(n)) {
      if (order[from] === -1 || idom[from] === -1) continue
      dom = dom === -1 ? from : intersect(from, dom)
    }
    if (dom !== -1 && idom[n] !== dom) {
      idom[n] = dom
      changed = true
    }
  }
}

const isNew = (n: number) => !seen.has(heap.id(n))
const detail = process.env.DETAIL
const detailRows = new Map<string, { bytes: number; objects: number }>()
const heldBy = (n: number) => {
  const parent = idom[n]!
  for (const e of heap.out(parent)) if (e.to === n) return `${heap.name(parent).slice(0, 30)}.${e.name}`
  return `(via ${heap.name(parent).slice(0, 30)})`
}
const rows = new Map<string, { bytes: number; objects: number }>()
let total = 0
for (let n = 0; n < count; n++) {
  if (order[n] === -1 || !isNew(n)) continue
  let owner: number | undefined
  let topNew = n
  let below = n
  for (let up = n; ; below = up, up = idom[up]!) {
    if (heap.type(up) === "object" && owners.has(heap.name(up))) {
      owner = up
      break
    }
    if (isNew(up)) topNew = up
    if (up === 0 || idom[up] === up) break
  }
  const key = owner !== undefined ? heap.name(owner) : `(no owner) ${heap.type(topNew)} ${heap.name(topNew).slice(0, 50)}`
  if (key === detail && (process.env.UNDER === undefined || (below !== n && heldBy(below).endsWith(process.env.UNDER)))) {
    const chain: Array<string> = []
    for (let up = n; up !== owner && chain.length < 12; up = idom[up]!) chain.unshift(heldBy(up).replace(/^.*\./, "") + ":" + heap.name(up).slice(0, 24))
    const what = process.env.BY === "chain" ? chain.slice(0, Number(process.env.DEPTH ?? 4)).join(" / ") : process.env.BY === "field" ? (below === n ? "(itself)" : heldBy(below)) : `${heap.type(n)} ${heap.name(n).slice(0, 40)} <- ${heldBy(n)}`
    const d = detailRows.get(what) ?? { bytes: 0, objects: 0 }
    d.bytes += heap.selfSize(n)
    d.objects++
    detailRows.set(what, d)
  }
  const row = rows.get(key) ?? { bytes: 0, objects: 0 }
  row.bytes += heap.selfSize(n)
  row.objects++
  rows.set(key, row)
  total += heap.selfSize(n)
}
const sorted = [...rows].sort((a, b) => b[1].bytes - a[1].bytes)
console.log(`new live objects: ${(total / calls / 1024).toFixed(2)} KB per call (${calls} calls)`)
console.log("| owner | KB / call | objects / call |")
console.log("|---|---|---|")
for (const [key, row] of sorted.slice(0, top)) {
  console.log(`| ${key} | ${(row.bytes / calls / 1024).toFixed(2)} | ${(row.objects / calls).toFixed(1)} |`)
}
if (detail !== undefined) {
  console.log(`\n${detail}'s share, by kind <- held by (dominator.edge):`)
  for (const [key, row] of [...detailRows].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 40)) {
    console.log(`  ${(row.bytes / calls).toFixed(0).padStart(6)} B ${(row.objects / calls).toFixed(1).padStart(5)}  ${key}`)
  }
}
