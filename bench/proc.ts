/** CPU time and memory of a process from /proc (Linux), for the benchmark's per-call figures. */
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import pg from "pg"

const TICKS_PER_SECOND = 100 // CLK_TCK on Linux

/** User + system CPU seconds the process has used so far. */
export const cpuSeconds = (pid: number): number => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
}

/** The process and its children (SERVICE_WORKERS' workers), from /proc/PID/task/PID/children. */
export const treePids = (pid: number): Array<number> => {
  let children: Array<number> = []
  try {
    children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ").filter((s) => s !== "").map(Number)
  } catch {
    // gone, or a kernel without the file: the process alone
  }
  return [pid, ...children]
}

/** CPU seconds of the process and its children so far (a child that has exited no longer counts). */
export const treeCpuSeconds = (pid: number): number => treePids(pid).reduce((sum, p) => sum + cpuSeconds(p), 0)

/** RSS in MB of the process and its children. */
export const treeRssMb = (pid: number): number => treePids(pid).reduce((sum, p) => sum + rssMb(p), 0)

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

/**
 * The kernel's count of connections dropped because a listener's accept queue was full
 * (TcpExt ListenOverflows, /proc/net/netstat; machine-wide): a client whose SYN is dropped
 * retries it after 1 s, then 3 s, which is what an overflowing burst waits.
 */
export const listenOverflows = (): number => {
  const lines = fs.readFileSync("/proc/net/netstat", "utf8").split("\n").filter((l) => l.startsWith("TcpExt:"))
  const names = lines[0]?.split(/\s+/) ?? []
  const values = lines[1]?.split(/\s+/) ?? []
  const at = names.indexOf("ListenOverflows")
  return at < 0 ? NaN : Number(values[at])
}

/**
 * CPU seconds so far of each PostgreSQL backend connected to the database of `url` (by pid,
 * from pg_stat_activity and /proc; the server must be on this machine). Callers take the
 * difference of two readings over the pids of the second: a backend that exited between
 * them is not counted (the service's pool keeps its connections, so few do).
 */
export const backendCpu = async (url: string): Promise<Map<number, number>> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ pid: number }>(
      "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()"
    )
    const cpu = new Map<number, number>()
    for (const { pid } of rows) {
      try {
        cpu.set(pid, cpuSeconds(pid))
      } catch {
        // Exited since the query.
      }
    }
    return cpu
  } finally {
    await client.end()
  }
}

/** CPU seconds the backends of `after` used since `before` (a backend new since then: all of its). */
export const backendCpuSince = (before: Map<number, number>, after: Map<number, number>): number => {
  let total = 0
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0)
  return total
}
