/**
 * Idle memory of the built service (`dist/main.js`), read as bench/media.ts reads its 0-call
 * figure: through the inspector, a full collection then VmRSS and `process.memoryUsage()`,
 * `--samples=3` times 1 s apart (median). Also prints V8's heap spaces, so a cut can be
 * attributed (old space, code, large objects, young generation), and optionally writes a heap
 * snapshot of the idle process (`--snapshot=FILE`; RSS read after it is not comparable).
 *
 *   npx tsc -p tsconfig.build.json && npx tsx bench/idle.ts --runs=3 [--settle=12] [--snapshot=/tmp/idle.heapsnapshot]
 *
 * Each run makes its own database on DATABASE_URL (dropped after), else an embedded PostgreSQL.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Inspector } from "./heap.js"
import { benchDatabase } from "./postgres.js"
import { freePort, machine, rssMb } from "./proc.js"

const ROOT = fileURLToPath(new URL("..", import.meta.url))
const arg = (name: string, fallback: string) =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback
const runs = Number(arg("runs", "1"))
const samples = Number(arg("samples", "3"))
/** Seconds after readiness before reading: the idle reclaim (src/Health/MemoryReclaim.ts) needs ~8 s. */
const settle = Number(arg("settle", "12"))
const snapshot = arg("snapshot", "")
const nodeFlags = arg("node-flags", "").split(",").filter((flag) => flag !== "")
/** `--main=FILE`: another build to read (a base tree's dist/main.js, for before/after pairs). */
const mainFile = path.resolve(arg("main", path.join(ROOT, "dist", "main.js")))

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const mb = (bytes: number) => (bytes / 1048576).toFixed(1)
const median = (values: ReadonlyArray<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const evaluate = async (inspector: Inspector, expression: string) => {
  const result = await inspector.call("Runtime.evaluate", { expression, returnByValue: true })
  return JSON.parse(result.result.value)
}

const once = async (run: number) => {
  const database = await benchDatabase(`idle_${process.pid}_${Date.now()}`)
  const port = await freePort()
  const inspectPort = await freePort()
  const child = spawn(process.execPath, [...nodeFlags, `--inspect=127.0.0.1:${inspectPort}`, mainFile], {
    cwd: path.dirname(path.dirname(mainFile)),
    env: {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: database.url,
      ADMIN_API_KEY: "bench-admin-key-0123456789abcdef",
      OPENAI_API_KEY: "sk-bench",
      OTEL_EXPORTER_OTLP_ENDPOINT: ""
    },
    stdio: ["ignore", "ignore", "pipe"]
  })
  let tail = ""
  child.stderr!.on("data", (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-2000)))
  try {
    const deadline = Date.now() + 90_000
    for (;;) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`service not ready\n${tail}`)
      const ok = await fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.status === 200, () => false)
      if (ok) break
      await sleep(200)
    }
    const readyRss = rssMb(child.pid!)
    await sleep(settle * 1000)
    const foundRss = rssMb(child.pid!)
    const inspector = await Inspector.open(inspectPort)
    const readings: Array<{ rss: number; heapUsed: number; heapTotal: number; external: number }> = []
    for (let i = 0; i < samples; i++) {
      if (i > 0) await sleep(1000)
      await inspector.collect()
      const usage = await inspector.usage()
      readings.push({ ...usage, rss: rssMb(child.pid!) * 1048576 })
    }
    const spaces = await evaluate(inspector, "JSON.stringify(process.getBuiltinModule('v8').getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size, s.space_used_size]))") as Array<[string, number, number]>
    const code = await evaluate(inspector, "JSON.stringify(process.getBuiltinModule('v8').getHeapCodeStatistics())") as Record<string, number>
    if (snapshot !== "") await inspector.snapshot(snapshot.replace(/(\.heapsnapshot)?$/, `-${run}.heapsnapshot`))
    inspector.close()
    const pick = (key: "rss" | "heapUsed" | "heapTotal" | "external") => median(readings.map((r) => r[key]))
    console.log(`run ${run}: ready RSS ${readyRss.toFixed(1)} MB, ready+${settle}s as found ${foundRss.toFixed(1)} MB; after a full collection (median of ${samples}): RSS ${mb(pick("rss"))} MB, heap used ${mb(pick("heapUsed"))} / committed ${mb(pick("heapTotal"))} MB, external ${mb(pick("external"))} MB`)
    console.log(`  spaces (committed/used MB): ${spaces.map(([name, size, used]) => `${name.replace("_space", "")} ${mb(size)}/${mb(used)}`).join(", ")}`)
    console.log(`  code: bytecode+metadata ${mb(code.bytecode_and_metadata_size!)} MB, code+metadata ${mb(code.code_and_metadata_size!)} MB, external script source ${mb(code.external_script_source_size!)} MB`)
    return pick("rss")
  } finally {
    child.kill("SIGTERM")
    await new Promise((resolve) => child.once("exit", resolve))
    await database.stop()
  }
}

if (!fs.existsSync(mainFile)) throw new Error(`${mainFile}: build first (npx tsc -p tsconfig.build.json)`)
console.log(JSON.stringify(machine()), mainFile)
const rss: Array<number> = []
for (let run = 1; run <= runs; run++) rss.push(await once(run))
console.log(`idle RSS after a full collection, per run (MB): ${rss.map((r) => mb(r)).join(" / ")}; median ${mb(median(rss))}; ${JSON.stringify(machine().loadavg)}`)
