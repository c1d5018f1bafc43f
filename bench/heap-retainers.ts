/**
 * Who keeps objects of one kind alive, from a heap snapshot (bench/media.ts --snapshots=DIR):
 * for every object whose constructor / function name is NAME (or whose type is T, for
 * `type:T`, e.g. `type:array`), its chain of retainers DEPTH levels up (weak edges skipped),
 * counted by chain with the objects' self size, largest first.
 *
 *   npx tsx bench/heap-retainers.ts FILE.heapsnapshot NAME [DEPTH=6] [TOP=15]
 */
import * as fs from "node:fs"

const [file, wanted, depthArg, topArg] = process.argv.slice(2)
if (file === undefined || wanted === undefined) throw new Error("usage: heap-retainers.ts FILE NAME [DEPTH] [TOP]")
const depth = Number(depthArg ?? 6)
const top = Number(topArg ?? 15)

const snapshot = JSON.parse(fs.readFileSync(file, "utf8"))
const meta = snapshot.snapshot.meta
const nodeFields: Array<string> = meta.node_fields
const edgeFields: Array<string> = meta.edge_fields
const nodeTypes: Array<string> = meta.node_types[0]
const edgeTypes: Array<string> = meta.edge_types[0]
const nodes: Array<number> = snapshot.nodes
const edges: Array<number> = snapshot.edges
const strings: Array<string> = snapshot.strings
const NW = nodeFields.length
const EW = edgeFields.length
const nType = nodeFields.indexOf("type"), nName = nodeFields.indexOf("name"), nEdges = nodeFields.indexOf("edge_count")
const nSize = nodeFields.indexOf("self_size")
const byType = wanted.startsWith("type:") ? wanted.slice(5) : undefined
const matches = (n: number) =>
  byType !== undefined ? nodeTypes[nodes[n * NW + nType]!] === byType : strings[nodes[n * NW + nName]!] === wanted
const eType = edgeFields.indexOf("type"), eName = edgeFields.indexOf("name_or_index"), eTo = edgeFields.indexOf("to_node")
const count = nodes.length / NW

// Reverse edges: for each node, (from node, edge index).
const retainerCount = new Uint32Array(count + 1)
let edgeAt = 0
const firstEdge = new Uint32Array(count)
for (let n = 0; n < count; n++) {
  firstEdge[n] = edgeAt
  edgeAt += nodes[n * NW + nEdges]! * EW
}
for (let e = 0; e < edges.length; e += EW) {
  if (edgeTypes[edges[e + eType]!] === "weak") continue
  retainerCount[edges[e + eTo]! / NW]!++
}
const retainerStart = new Uint32Array(count + 1)
for (let n = 0; n < count; n++) retainerStart[n + 1] = retainerStart[n]! + retainerCount[n]!
const retainers = new Uint32Array(retainerStart[count]!)
const retainerEdge = new Uint32Array(retainerStart[count]!)
const fill = retainerStart.slice()
for (let n = 0; n < count; n++) {
  const end = n + 1 < count ? firstEdge[n + 1]! : edges.length
  for (let e = firstEdge[n]!; e < end; e += EW) {
    if (edgeTypes[edges[e + eType]!] === "weak") continue
    const to = edges[e + eTo]! / NW
    retainers[fill[to]!] = n
    retainerEdge[fill[to]!++] = e
  }
}

const label = (n: number) => {
  const type = nodeTypes[nodes[n * NW + nType]!]!
  const name = strings[nodes[n * NW + nName]!]!
  return `${type === "object" ? "" : type + " "}${name.length > 40 ? name.slice(0, 40) + "…" : name}`
}
const edgeLabel = (e: number) => {
  const type = edgeTypes[edges[e + eType]!]!
  const name = type === "element" || type === "hidden" ? `[${edges[e + eName]}]` : strings[edges[e + eName]!]
  return `${name}`
}

/** `SKIP=a,b`: retainer edges named so (e.g. a fiber's own closures' `this`) are not followed. */
const skip = new Set((process.env.SKIP ?? "").split(",").filter((x) => x !== ""))
const chains = new Map<string, { n: number; bytes: number }>()
let matched = 0
let matchedBytes = 0
for (let n = 0; n < count; n++) {
  if (!matches(n)) continue
  matched++
  matchedBytes += nodes[n * NW + nSize]!
  // Follow the first retainer that is not the node itself, DEPTH levels.
  const parts: Array<string> = []
  let at = n
  const seen = new Set<number>([n])
  for (let level = 0; level < depth; level++) {
    let next = -1
    let via = -1
    for (let r = retainerStart[at]!; r < retainerStart[at + 1]!; r++) {
      if (!seen.has(retainers[r]!) && !skip.has(edgeLabel(retainerEdge[r]!)) && !skip.has(label(retainers[r]!))) {
        next = retainers[r]!
        via = retainerEdge[r]!
        break
      }
    }
    if (next === -1) break
    parts.push(`.${edgeLabel(via)} <- ${label(next)}`)
    seen.add(next)
    at = next
  }
  const chain = parts.join(" ")
  const entry = chains.get(chain) ?? { n: 0, bytes: 0 }
  entry.n++
  entry.bytes += nodes[n * NW + nSize]!
  chains.set(chain, entry)
}
console.log(`${matched} objects (${matchedBytes} bytes) matching ${wanted}`)
for (const [chain, { n, bytes }] of [...chains].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, top)) {
  console.log(`${n}\t${bytes}\t${chain}`)
}
