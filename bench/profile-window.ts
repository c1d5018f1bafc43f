/**
 * A `.cpuprofile`'s samples within a window of monotonic microseconds (bench/media-phase.ts prints
 * it): busy samples by the innermost frame (self) and by the outermost frame of src/ on the stack.
 *
 *   npx tsx bench/profile-window.ts FILE.cpuprofile FROM_US TO_US [top=40]
 */
import * as fs from "node:fs"

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: Array<number>
}
const [file, fromArg, toArg, topArg] = process.argv.slice(2)
const profile = JSON.parse(fs.readFileSync(file!, "utf8")) as { nodes: Array<Node>; startTime: number; samples: Array<number>; timeDeltas: Array<number> }
const from = Number(fromArg)
const to = Number(toArg)
const top = Number(topArg ?? 40)
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const short = (n: Node) => {
  const url = n.callFrame.url.replace(/^.*node_modules\//, "").replace(/^.*\/dist\/(?!esm)/, "dist/").replace(/^file:\/\//, "")
  return `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`
}
const self = new Map<string, number>()
const outer = new Map<string, number>()
let busy = 0
let t = profile.startTime
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i]!
  if (t < from || t > to) continue
  const node = byId.get(profile.samples[i]!)!
  if (node.callFrame.functionName === "(idle)") continue
  busy++
  self.set(short(node), (self.get(short(node)) ?? 0) + 1)
  let ours: Node | undefined
  for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
    const at = byId.get(id)!
    if (at.callFrame.url.includes("/dist/") && !at.callFrame.url.includes("node_modules")) ours = at
  }
  const key = ours === undefined ? "(no frame of ours)" : short(ours)
  outer.set(key, (outer.get(key) ?? 0) + 1)
}
const print = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`)
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${String(v).padStart(6)} ${(100 * v / busy).toFixed(1).padStart(5)} %  ${k}`)
}
console.log(`busy samples in the window: ${busy}`)
print("self (innermost frame)", self)
print("outermost frame of dist/ on the stack", outer)
