/**
 * Memory of a relay under bench/media.ts, read the same way for every target through its
 * inspector (`--inspect=127.0.0.1:PORT`): a full collection on demand, `process.memoryUsage()`
 * (V8 heap used, external, arrayBuffers) and heap snapshots summed by constructor, so a
 * per-call figure is "what N live calls keep alive", not garbage a scavenge has not reached.
 */
import * as fs from "node:fs"
import { WebSocket } from "ws"
import { loadHeapSnapshot } from "./heap-snapshot.js"

export interface Usage {
  readonly rss: number
  readonly heapTotal: number
  readonly heapUsed: number
  readonly external: number
  readonly arrayBuffers: number
}

/** One DevTools protocol session to a process started with --inspect. */
export class Inspector {
  private nextId = 1
  private readonly pending = new Map<number, (result: any) => void>()
  private onChunk: ((chunk: string) => void) | undefined

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => {
      const message = JSON.parse(data.toString())
      if (message.method === "HeapProfiler.addHeapSnapshotChunk") this.onChunk?.(message.params.chunk)
      else if (message.id !== undefined) {
        this.pending.get(message.id)?.(message.result)
        this.pending.delete(message.id)
      }
    })
  }

  static async open(port: number): Promise<Inspector> {
    const [target] = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>
    const ws = new WebSocket(target!.webSocketDebuggerUrl, { maxPayload: 1 << 30 })
    await new Promise((resolve, reject) => {
      ws.once("open", resolve)
      ws.once("error", reject)
    })
    return new Inspector(ws)
  }

  call(method: string, params: object = {}): Promise<any> {
    const id = this.nextId++
    return new Promise((resolve) => {
      this.pending.set(id, resolve)
      this.ws.send(JSON.stringify({ id, method, params }))
    })
  }

  /** A full, memory-reducing collection (what DevTools' "collect garbage" does). */
  collect(): Promise<void> {
    return this.call("HeapProfiler.collectGarbage")
  }

  async usage(): Promise<Usage> {
    const result = await this.call("Runtime.evaluate", {
      expression: "JSON.stringify(process.memoryUsage())",
      returnByValue: true
    })
    return JSON.parse(result.result.value) as Usage
  }

  /** Writes a heap snapshot (V8 collects first) to `file`. */
  async snapshot(file: string): Promise<void> {
    const out = fs.openSync(file, "w")
    this.onChunk = (chunk) => fs.writeSync(out, chunk)
    try {
      await this.call("HeapProfiler.takeHeapSnapshot", { reportProgress: false })
    } finally {
      this.onChunk = undefined
      fs.closeSync(out)
    }
  }

  close(): void {
    this.ws.close()
  }
}

export interface Group {
  count: number
  size: number
}

/**
 * Live objects of a snapshot by kind: objects and closures by constructor / function name,
 * everything else (strings, arrays, code, hidden V8 structures) by type alone. The sum of
 * self sizes is the snapshot's whole heap, so the difference of two summaries is what the
 * change between them keeps alive, split by what it is.
 */
export const summarize = (file: string): Map<string, Group> => {
  const heap = loadHeapSnapshot(file)
  const groups = new Map<string, Group>()
  for (let n = 0; n < heap.count; n++) {
    const type = heap.type(n)
    const name = heap.name(n)
    const key = type === "object" || type === "closure" || type === "native"
      ? `${type === "closure" ? "closure " : type === "native" ? "native " : ""}${name.length > 60 ? name.slice(0, 60) + "…" : name}`
      : `(${type})`
    const group = groups.get(key) ?? { count: 0, size: 0 }
    group.count++
    group.size += heap.selfSize(n)
    groups.set(key, group)
  }
  return groups
}

/** The groups that grew most from `before` to `after`, per call. */
export const perCallDiff = (before: Map<string, Group>, after: Map<string, Group>, calls: number, top = 25) => {
  const rows: Array<{ key: string; count: number; bytes: number }> = []
  for (const [key, group] of after) {
    const base = before.get(key) ?? { count: 0, size: 0 }
    rows.push({ key, count: (group.count - base.count) / calls, bytes: (group.size - base.size) / calls })
  }
  for (const [key, base] of before) {
    if (!after.has(key)) rows.push({ key, count: -base.count / calls, bytes: -base.size / calls })
  }
  const total = rows.reduce((sum, row) => sum + row.bytes, 0)
  rows.sort((a, b) => b.bytes - a.bytes)
  // Compiled code grows with whatever the JIT optimised between the snapshots (+-2 KB per call at 200 calls): given apart.
  return { total, code: rows.find((row) => row.key === "(code)")?.bytes ?? 0, rows: rows.slice(0, top) }
}
