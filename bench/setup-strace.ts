/**
 * bench:setup's `--strace=FILE`: `strace -f` on the target during the burst, its write-family
 * system calls logged with the first bytes of what each wrote, then counted per call by what
 * they carried: an HTTP response (the TwiML, the 101), a frame to the caller (unmasked), a
 * frame to the model (masked), a PostgreSQL message, anything else (logs). The counts are
 * exact; the timings of a traced run are not (every traced call stops the thread).
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"

const CALLS = ["write", "writev", "sendmsg", "sendto"]

/** What a logged write carried, from the bytes strace shows. */
const kindOf = (line: string): string => {
  const data = /\(\d+, (?:\[\{iov_base=)?"((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? ""
  if (data.startsWith("HTTP/1.1 101")) return "101 upgrade"
  if (data.startsWith("HTTP/1.1")) return "HTTP response"
  if (data.startsWith("\\201\\376") || data.startsWith("\\201\\377") || /^\\201\\3/.test(data)) return "frame to model (masked)"
  if (data.startsWith("\\201") || data.startsWith("\\210") || data.startsWith("\\212")) return "frame to caller or close/pong"
  if (/^(?:[PBEDSQXCH]|\\0)/.test(data)) return "PostgreSQL"
  return `other (${data.slice(0, 12)})`
}

export const traceWrites = async (pid: number, file: string) => {
  const tracer = spawn("strace", ["-f", "-qq", "-e", `trace=${CALLS.join(",")}`, "-s", "24", "-o", file, "-p", String(pid)], { stdio: "ignore" })
  // strace attaches to every thread before the burst starts.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const from = fs.existsSync(file) ? fs.statSync(file).size : 0
  return {
    stop: async (calls: number): Promise<string> => {
      tracer.kill("SIGINT")
      await new Promise((resolve) => tracer.once("exit", resolve))
      const lines = fs.readFileSync(file, "utf8").slice(from).split("\n").filter((line) => CALLS.some((c) => line.includes(` ${c}(`) || line.includes(`${c}(`)))
      const counts = new Map<string, number>()
      for (const line of lines) {
        const call = CALLS.find((c) => line.includes(`${c}(`))!
        const key = `${call} ${kindOf(line)}`
        counts.set(key, (counts.get(key) ?? 0) + 1)
      }
      const rows = [...counts].sort((a, b) => b[1] - a[1]).map(([key, n]) => `${key} ${(n / calls).toFixed(2)}`)
      return `write-family system calls per call during the burst (${lines.length} in all, log ${file}): ${rows.join("; ")}`
    }
  }
}
