/**
 * The CPU of the service's log lines written to a pipe, per line, for built trees side by side:
 * each tree's dist/Observability/JsonLog.js logs "call ended" lines (annotated as a call's end is)
 * in a child process whose stdout is a pipe this process reads, as a log collector would. Lines
 * come `--per-turn=N` to a turn of the event loop (calls ending together: 1, 10, 100). The child's
 * own CPU (user + system) over the lines is reported, and how many writes reached the pipe.
 *
 *   npx tsx bench/log-lines.ts [--lines=20000] [--rounds=5] [--per-turn=1,10,100] treeA treeB
 */
import { spawn } from "node:child_process"
import * as path from "node:path"
import { pathToFileURL } from "node:url"

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const lines = Number(arg("lines", "20000"))
const rounds = Number(arg("rounds", "5"))
const perTurn = arg("per-turn", "1,10,100").split(",").map(Number)
const trees = process.argv.slice(2).filter((a) => !a.startsWith("--")).map((tree) => path.resolve(tree))

// The child: N lines, `each` per turn of the event loop (setImmediate between batches); its CPU on stderr at the end.
const child = (jsonLog: string, effect: string, count: number, each: number) => `
  const { Effect, ManagedRuntime } = await import(${JSON.stringify(effect)})
  const { JsonLogLive } = await import(${JSON.stringify(jsonLog)})
  const runtime = ManagedRuntime.make(JsonLogLive)
  const ended = (i) => Effect.logInfo("call ended").pipe(Effect.annotateLogs({
    tenant_id: "bench", stream_sid: "MZ" + String(i).padStart(32, "0"), call_sid: "CA" + String(i).padStart(32, "0"), end_reason: "caller_hangup"
  }))
  const turn = () => new Promise((resolve) => setImmediate(resolve))
  for (let i = 0; i < 200; i++) runtime.runSync(ended(i))
  await turn()
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < ${count}; i += ${each}) {
    for (let j = i; j < Math.min(i + ${each}, ${count}); j++) runtime.runSync(ended(j))
    await turn()
  }
  await turn()
  const cpu = process.cpuUsage(cpu0)
  process.stderr.write(JSON.stringify({ cpuUs: cpu.user + cpu.system }))
`

const run = (tree: string, each: number) =>
  new Promise<{ usPerLine: number; writes: number; received: number }>((resolve, reject) => {
    const script = child(
      pathToFileURL(path.join(tree, "dist/Observability/JsonLog.js")).href,
      pathToFileURL(path.join(tree, "node_modules/effect/dist/esm/index.js")).href,
      lines,
      each
    )
    const proc = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] })
    let received = 0
    let reads = 0
    let err = ""
    proc.stdout.on("data", (chunk: Buffer) => {
      reads++
      for (const byte of chunk) if (byte === 10) received++
    })
    proc.stderr.on("data", (chunk) => (err += chunk))
    proc.on("exit", (code) => {
      if (code !== 0) return reject(new Error(err))
      const { cpuUs } = JSON.parse(err) as { cpuUs: number }
      resolve({ usPerLine: cpuUs / lines, writes: reads, received: received - 200 })
    })
  })

const main = async () => {
  console.log(`${lines} "call ended" lines per run, ${rounds} rounds, trees alternating: ${trees.join(" | ")}`)
  console.log("| lines per turn | tree | child CPU µs per line (median of rounds) | spread (min-max) | pipe reads per 100 lines |")
  console.log("|---|---|---|---|---|")
  for (const each of perTurn) {
    const results = new Map<string, Array<{ usPerLine: number; writes: number; received: number }>>(trees.map((t) => [t, []]))
    for (let round = 0; round < rounds; round++) {
      for (const tree of round % 2 === 0 ? trees : [...trees].reverse()) results.get(tree)!.push(await run(tree, each))
    }
    for (const [tree, rs] of results) {
      const us = rs.map((r) => r.usPerLine).sort((a, b) => a - b)
      if (rs.some((r) => r.received !== lines)) throw new Error(`${tree}: lines lost`)
      const reads = rs.map((r) => r.writes).sort((a, b) => a - b)[rs.length >> 1]!
      console.log(`| ${each} | ${path.basename(tree)} | ${us[us.length >> 1]!.toFixed(1)} | ${us[0]!.toFixed(1)}-${us[us.length - 1]!.toFixed(1)} | ${(100 * reads / lines).toFixed(1)} |`)
    }
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
