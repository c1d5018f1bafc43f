/**
 * Open-loop load: requests are sent on a fixed schedule whatever the server does (rate R for S
 * seconds), and each latency is measured from the moment the request was due, so a server that
 * falls behind shows its queueing delay instead of slowing the generator down.
 */
import * as http from "node:http"
import { cpuSeconds, rssMb } from "./proc.js"

export interface LoadResult {
  readonly offered: number
  readonly achieved: number
  readonly p50: number
  readonly p99: number
  readonly errors: number
  readonly maxBytes: number
  /** Service CPU milliseconds per completed request (user + system, from /proc). */
  readonly cpuMsPerRequest: number
  readonly rssMb: number
}

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

export const openLoop = async (options: {
  readonly port: number
  readonly paths: ReadonlyArray<string>
  readonly headers: Record<string, string>
  readonly rate: number
  readonly seconds: number
  readonly pid: number
}): Promise<LoadResult> => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 512 })
  const latencies: Array<number> = []
  let errors = 0
  let maxBytes = 0
  const total = Math.round(options.rate * options.seconds)
  const cpuBefore = cpuSeconds(options.pid)
  const start = performance.now()
  const pending: Array<Promise<void>> = []
  const one = (path: string, due: number) =>
    new Promise<void>((resolve) => {
      const req = http.get({ host: "127.0.0.1", port: options.port, path, headers: options.headers, agent, timeout: 30_000 }, (res) => {
        let bytes = 0
        res.on("data", (chunk: Buffer) => (bytes += chunk.length))
        res.on("end", () => {
          maxBytes = Math.max(maxBytes, bytes)
          if (res.statusCode === 200) latencies.push(performance.now() - due)
          else errors++
          resolve()
        })
      })
      req.on("timeout", () => req.destroy(new Error("timeout")))
      req.on("error", () => {
        errors++
        resolve()
      })
    })
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / options.rate
    const wait = due - performance.now()
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
    pending.push(one(options.paths[i % options.paths.length]!, due))
  }
  await Promise.all(pending)
  const elapsed = (performance.now() - start) / 1000
  const cpu = cpuSeconds(options.pid) - cpuBefore
  agent.destroy()
  latencies.sort((a, b) => a - b)
  return {
    offered: options.rate,
    achieved: Math.round(latencies.length / elapsed),
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    errors,
    maxBytes,
    cpuMsPerRequest: latencies.length === 0 ? NaN : (cpu * 1000) / (latencies.length + errors),
    rssMb: rssMb(options.pid)
  }
}
