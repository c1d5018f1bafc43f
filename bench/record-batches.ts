/**
 * Calls' end-of-call records arriving together, for two trees in turn: the service's CPU and the
 * PostgreSQL backends' CPU per record, the record statements sent per record, and the records'
 * latency (asked -> answered). Each tree's src/ is loaded as bench/record-cost.ts loads it
 * (bench/record-runtime.ts: the record's own services only, on a database of its own).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *     npx tsx bench/record-batches.ts --trees=/work/wt/a,/work/wt/b [--records=800] [--rate=200] [--rounds=3]
 *
 * `--rate=R`: records asked R per second (one every 1000/R ms, each not waiting for the others: calls
 * ending at a steady rate); `--rate=0`: all of them at once. A round runs each tree once, in a child
 * process each, alternating the order (A B, then B A, ...), after a warm-up of the same pattern.
 */
import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import pg from "pg"
import { backendCpu, backendCpuSince } from "./proc.js"
import { withRecordRuntime } from "./record-runtime.js"

const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback

const child = async (tree: string, records: number, rate: number) => {
  let statements = 0
  const query = pg.Client.prototype.query as (...args: Array<unknown>) => unknown
  pg.Client.prototype.query = function(this: pg.Client, ...args: Array<unknown>) {
    const first = args[0]
    const text = typeof first === "object" && first !== null ? (first as { text?: unknown }).text : first
    if (typeof text === "string" && text.startsWith("with \"recorded_call")) statements++
    return query.apply(this, args)
  } as typeof pg.Client.prototype.query
  const { Effect } = await import("effect")
  return withRecordRuntime(tree, `ssv_recbatch_${process.pid}`, {}, async ({ CallRecords, databaseUrl, runtime }) => {
    const t0 = Date.now()
    let n = 0
    // The bench:setup call's record: the greeting, a caller's frame, a hang-up (an abandoned call: a task).
    const call = () => {
      n++
      const sid = n.toString(16).padStart(32, "0")
      return {
        tenantId: "acme", streamSid: `MZ${sid}`, callSid: `CA${sid}`, direction: "inbound" as const,
        from: "+15551110001", to: "+15550008000", agentVersionId: null, model: "gpt-realtime", voice: "verse",
        startedAt: new Date(t0 - 3_000), endedAt: new Date(t0), endReason: "caller_hangup" as const, errorMessage: null,
        transcript: [{ role: "assistant" as const, content: "Hello, how can I help?", timestamp: new Date(t0 - 2_000) }],
        functionCalls: [], turnLatencies: [{ llmFirstTokenMs: 3, firstAudioMs: 5 }],
        escalated: false, escalationReason: null
      }
    }
    const record = () => runtime.runPromise(Effect.flatMap(CallRecords, (r: any) => r.recordCompletedCall(call())))
    const wave = async (count: number) => {
      const latencies: Array<number> = []
      const pending: Array<Promise<unknown>> = []
      const started = performance.now()
      for (let i = 0; i < count; i++) {
        if (rate > 0) {
          const due = started + (i * 1000) / rate
          const wait = due - performance.now()
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
        }
        const asked = performance.now()
        pending.push(record().then(() => latencies.push(performance.now() - asked)))
      }
      await Promise.all(pending)
      return latencies.sort((a, b) => a - b)
    }
    await wave(Math.min(records, 400))
    statements = 0
    const pgBefore = await backendCpu(databaseUrl)
    const cpuBefore = process.cpuUsage()
    const latencies = await wave(records)
    const cpu = process.cpuUsage(cpuBefore)
    const pgCpu = backendCpuSince(pgBefore, await backendCpu(databaseUrl))
    const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!.toFixed(1)
    return {
      tree: path.basename(tree),
      cpuUsPerRecord: Math.round((cpu.user + cpu.system) / records),
      pgCpuUsPerRecord: Math.round((pgCpu * 1e6) / records),
      statementsPerRecord: Number((statements / records).toFixed(2)),
      latencyP50: pct(50),
      latencyP99: pct(99)
    }
  })
}

if (process.argv.includes("--child")) {
  const result = await child(path.resolve(arg("tree", ".")), Number(arg("records", "800")), Number(arg("rate", "200")))
  console.log(JSON.stringify(result))
  process.exit(0)
} else {
  const trees = arg("trees", ".").split(",").map((tree) => path.resolve(tree))
  const rounds = Number(arg("rounds", "3"))
  const self = fileURLToPath(import.meta.url)
  console.log("| round | tree | service CPU µs/record | PostgreSQL CPU µs/record | record statements/record | latency p50 / p99 ms |")
  console.log("|---|---|---|---|---|---|")
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? trees : [...trees].reverse()
    for (const tree of order) {
      const out = spawnSync("npx", ["tsx", self, "--child", `--tree=${tree}`, `--records=${arg("records", "800")}`, `--rate=${arg("rate", "200")}`], {
        cwd: tree,
        encoding: "utf8",
        env: process.env
      })
      const line = out.stdout.split("\n").find((l) => l.startsWith("{"))
      if (line === undefined) {
        console.error(out.stdout, out.stderr)
        continue
      }
      const r = JSON.parse(line) as Record<string, unknown>
      console.log(`| ${round} | ${r.tree} | ${r.cpuUsPerRecord} | ${r.pgCpuUsPerRecord} | ${r.statementsPerRecord} | ${r.latencyP50} / ${r.latencyP99} |`)
    }
  }
}
