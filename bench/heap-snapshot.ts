/**
 * A V8 heap snapshot (`.heapsnapshot`, as DevTools or bench/heap.ts's Inspector writes it) read
 * once into flat arrays, with the accessors the heap tools share: a node's type, name and self
 * size, its outgoing edges, a closure's source line, and (built on demand) its retainers.
 */
import * as fs from "node:fs"

export interface Edge {
  readonly type: string
  /** The property name, or the index for element and hidden edges. */
  readonly name: string
  readonly to: number
  /** The edge's offset in the snapshot's edge array (an id for it). */
  readonly at: number
}

export interface HeapGraph {
  /** Nodes are numbered 0 .. count - 1. */
  readonly count: number
  readonly type: (n: number) => string
  readonly name: (n: number) => string
  readonly selfSize: (n: number) => number
  /** The object's id: the same object keeps it across snapshots of one process. */
  readonly id: (n: number) => number
  readonly out: (n: number) => Iterable<Edge>
  /** The first outgoing edge named `edge`, if any. */
  readonly child: (n: number, edge: string) => number | undefined
  /** The source line (1-based) of a closure, where the snapshot recorded locations. */
  readonly line: (n: number) => number | undefined
  /** Edge `at` (from `out` or `retainers`) as an Edge. */
  readonly edge: (at: number) => Edge
  /** Who points at each node (weak edges left out), built once on the first call. */
  readonly retainers: () => Retainers
}

export interface Retainers {
  /** The nodes holding `n`, with the edge they hold it by. */
  readonly of: (n: number) => Iterable<{ readonly from: number; readonly at: number }>
}

export const loadHeapSnapshot = (file: string): HeapGraph => {
  const snapshot = JSON.parse(fs.readFileSync(file, "utf8"))
  const meta = snapshot.snapshot.meta
  const nodeFields: Array<string> = meta.node_fields
  const edgeFields: Array<string> = meta.edge_fields
  const nodeTypes: Array<string> = meta.node_types[0]
  const edgeTypes: Array<string> = meta.edge_types[0]
  const nodes: Array<number> = snapshot.nodes
  const edges: Array<number> = snapshot.edges
  const strings: Array<string> = snapshot.strings
  const locations: Array<number> = snapshot.locations ?? []
  const NW = nodeFields.length
  const EW = edgeFields.length
  const nType = nodeFields.indexOf("type")
  const nName = nodeFields.indexOf("name")
  const nSize = nodeFields.indexOf("self_size")
  const nEdges = nodeFields.indexOf("edge_count")
  const nId = nodeFields.indexOf("id")
  const eType = edgeFields.indexOf("type")
  const eName = edgeFields.indexOf("name_or_index")
  const eTo = edgeFields.indexOf("to_node")
  const count = nodes.length / NW

  // A node's edges are contiguous, in node order: node n's start at firstEdge[n].
  const firstEdge = new Uint32Array(count + 1)
  for (let n = 0, at = 0; n < count; n++) {
    firstEdge[n] = at
    at += nodes[n * NW + nEdges]! * EW
    firstEdge[n + 1] = at
  }
  const lines = new Map<number, number>()
  for (let i = 0; i < locations.length; i += 4) lines.set(locations[i]! / NW, locations[i + 2]! + 1)

  const edgeType = (at: number) => edgeTypes[edges[at + eType]!]!
  const edge = (at: number): Edge => {
    const type = edgeType(at)
    const name = type === "element" || type === "hidden" ? String(edges[at + eName]) : strings[edges[at + eName]!]!
    return { type, name, to: edges[at + eTo]! / NW, at }
  }
  const out = function*(n: number): Iterable<Edge> {
    for (let at = firstEdge[n]!; at < firstEdge[n + 1]!; at += EW) yield edge(at)
  }

  let built: Retainers | undefined
  const retainers = (): Retainers => {
    if (built !== undefined) return built
    // Counting sort of the non-weak edges by target: node n's retainers are start[n] .. start[n + 1].
    const start = new Uint32Array(count + 1)
    for (let at = 0; at < edges.length; at += EW) {
      if (edgeType(at) !== "weak") start[edges[at + eTo]! / NW + 1]!++
    }
    for (let n = 0; n < count; n++) start[n + 1]! += start[n]!
    const from = new Uint32Array(start[count]!)
    const via = new Uint32Array(start[count]!)
    const fill = start.slice()
    for (let n = 0; n < count; n++) {
      for (let at = firstEdge[n]!; at < firstEdge[n + 1]!; at += EW) {
        if (edgeType(at) === "weak") continue
        const to = edges[at + eTo]! / NW
        from[fill[to]!] = n
        via[fill[to]!++] = at
      }
    }
    built = {
      of: function*(n) {
        for (let r = start[n]!; r < start[n + 1]!; r++) yield { from: from[r]!, at: via[r]! }
      }
    }
    return built
  }

  return {
    count,
    type: (n) => nodeTypes[nodes[n * NW + nType]!]!,
    name: (n) => strings[nodes[n * NW + nName]!]!,
    selfSize: (n) => nodes[n * NW + nSize]!,
    id: (n) => nodes[n * NW + nId]!,
    out,
    child: (n, name) => {
      for (const e of out(n)) if (e.name === name) return e.to
      return undefined
    },
    line: (n) => lines.get(n),
    edge,
    retainers
  }
}
