/** CPU time and memory of a process from /proc (Linux), for the benchmark's per-call figures. */
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"

const TICKS_PER_SECOND = 100 // CLK_TCK on Linux

/** User + system CPU seconds the process has used so far. */
export const cpuSeconds = (pid: number): number => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
}

/** Resident set size in MB. */
export const rssMb = (pid: number): number => {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8")
  const match = /VmRSS:\s+(\d+) kB/.exec(status)
  return match === null ? NaN : Number(match[1]) / 1024
}

export const machine = () => ({
  nproc: os.cpus().length,
  model: os.cpus()[0]?.model ?? "unknown",
  node: process.version,
  loadavg: os.loadavg().map((n) => n.toFixed(2)).join(" ")
})

/** A TCP port free on 127.0.0.1 right now (for a server a benchmark starts). */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

/**
 * The running totals a service under bench/ops-main.ts prints as a `{"ops":...}` line on stderr
 * when sent SIGUSR2 (operations, fibers, ...): callers take the difference of two snapshots.
 */
export const countersSnapshot = <Counts>(child: ChildProcess): Promise<Counts> =>
  new Promise((resolve) => {
    let buffer = ""
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString()
      const line = buffer.split("\n").find((l) => l.startsWith("{\"ops\""))
      if (line !== undefined) {
        child.stderr!.off("data", onData)
        resolve(JSON.parse(line) as Counts)
      }
    }
    child.stderr!.on("data", onData)
    child.kill("SIGUSR2")
  })
