/**
 * Every Effect operation of ONE WHOLE inbound call, in order (bench/ops-trace-main.ts's
 * supervisor): webhook, media upgrade, `start`, greeting, one caller frame, the caller's hang-up
 * and the end-of-call record, after 10 warm-up calls. Prints the count per phase (by the
 * markers this script sends: the trace is cut where each step's answer arrived) and writes the
 * trace (one operation a line, "FIBER START" for each fiber) to `out`.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/setup-trace.ts <tree> [out.txt]
 */
import * as fs from "node:fs"
import pg from "pg"
import { freePort } from "./proc.js"
import { greetedCall, sleep, startSetUpService, stopService } from "./setup-fixture.js"
import { startFakeModel } from "./setup-model.js"

const call = async (base: string, n: number, mark: (phase: string) => Promise<void> = async () => {}) => {
  const { ws } = await greetedCall(base, n, () => mark("webhook (POST -> TwiML)"))
  await mark("upgrade + start + upstream open + greeting")
  await new Promise<void>((resolve) => {
    ws.once("close", () => resolve())
    ws.close()
  })
  await sleep(500)
  await mark("hang-up + record (500 ms after close)")
}

const main = async () => {
  const [tree, out] = process.argv.slice(2)
  const baseUrl = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres")
  const database = `ssv_setup_trace_${Date.now()}`
  const admin = new pg.Client({ connectionString: baseUrl.toString() })
  await admin.connect()
  await admin.query(`create database ${database}`)
  const url = new URL(baseUrl)
  url.pathname = `/${database}`
  const upstream = await startFakeModel(await freePort(), "response.create", () => {})
  const { base, child } = await startSetUpService({
    tree: tree!,
    url: url.toString(),
    entry: "bench/ops-trace-main.ts",
    env: {
      OPENAI_BASE_URL: `http://127.0.0.1:${upstream.port}/v1`,
      UPSTREAM_URL: `ws://127.0.0.1:${upstream.port}/v1/realtime?model=gpt-realtime`
    },
    stdio: ["ignore", "ignore", "pipe"]
  })
  let buffer = ""
  const traces: Array<Array<string>> = []
  child.stderr!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString()
    let nl
    while ((nl = buffer.indexOf("\n")) !== -1) {
      const line = buffer.slice(0, nl)
      buffer = buffer.slice(nl + 1)
      if (line.startsWith("{\"trace\"")) traces.push((JSON.parse(line) as { trace: Array<string> }).trace)
    }
  })
  const toggle = async () => {
    child.kill("SIGUSR1")
    await sleep(50)
  }
  try {
    let n = Math.floor(Math.random() * 1e6) * 1000
    for (let i = 0; i < 10; i++) await call(base, n++)
    await sleep(1500)
    const phases: Array<string> = []
    await toggle()
    await call(base, n++, async (phase) => {
      await sleep(0)
      phases.push(phase)
      child.kill("SIGUSR2")
    })
    await toggle()
    for (let i = 0; i < 50 && traces.length < phases.length; i++) await sleep(100)
    const lines: Array<string> = []
    let all = 0
    phases.forEach((phase, i) => {
      const trace = traces[i] ?? []
      all += trace.length
      console.log(`${String(trace.length).padStart(6)} ops, ${trace.filter((l) => l === "FIBER START").length} fibers: ${phase}`)
      lines.push(`=== ${phase}`, ...trace)
    })
    console.log(`${String(all).padStart(6)} ops in all`)
    if (out !== undefined) fs.writeFileSync(out, lines.join("\n"))
  } finally {
    await stopService(child)
    await upstream.close()
    await admin.query(`drop database if exists ${database} with (force)`)
    await admin.end()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
