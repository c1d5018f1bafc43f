/**
 * What the open-loop generator itself costs: its CPU per request and the rate it sustains against
 * a trivial node:http server (another process) answering every GET with a fixed body, so the
 * figures of bench/rest-ab.ts can be read knowing how much of the two cores the generator took.
 *
 *   npx tsx bench/load-gen.ts [other-open-loop.ts ...]
 *     GEN_RATES=500,1000,2000 GEN_SECONDS=5 GEN_BYTES=20000 (body size: a 50-row call-logs page)
 *     other-open-loop.ts: another version of bench/open-loop.ts (e.g. main's) measured the same way
 */
import { fork } from "node:child_process"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { openLoop as leanOpenLoop, type LoadResult } from "./open-loop.js"
import { freePort } from "./proc.js"

type OpenLoop = (options: {
  port: number
  paths: ReadonlyArray<string>
  headers: Record<string, string>
  rate: number
  seconds: number
  pid: number
}) => Promise<Omit<LoadResult, "generatorCpuMsPerRequest" | "sendLagP99" | "completed"> & { readonly completed?: number }>

const serve = () => {
  const body = Buffer.alloc(Number(process.env.GEN_BYTES ?? 20_000), "x")
  http.createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(body))
    .listen(Number(process.env.PORT), "127.0.0.1", () => process.send?.("ready"))
  process.on("SIGTERM", () => process.exit(0))
}

const main = async () => {
  const rates = (process.env.GEN_RATES ?? "500,1000,2000").split(",").map(Number)
  const seconds = Number(process.env.GEN_SECONDS ?? 5)
  const generators: Array<[string, OpenLoop]> = [["lean (this tree)", leanOpenLoop]]
  for (const file of process.argv.slice(2)) {
    const mod = await import(path.resolve(file)) as { openLoop: OpenLoop }
    generators.push([file, mod.openLoop])
  }
  const port = await freePort()
  const server = fork(new URL(import.meta.url).pathname, [], {
    execArgv: ["--import", "tsx"],
    env: { ...process.env, LOADGEN_SERVER: "1", PORT: String(port) },
    stdio: "ignore"
  })
  await new Promise((resolve) => server.once("message", resolve))
  const base = { port, pid: server.pid!, paths: ["/api/v1/call-logs?limit=50"], headers: { authorization: "Bearer x".padEnd(60, "x") } }
  for (const [, run] of generators) await run({ ...base, rate: 500, seconds: 2 }) // warm-up
  for (const rate of rates) {
    for (const [name, run] of generators) {
      const before = process.cpuUsage()
      const r = await run({ ...base, rate, seconds })
      const own = process.cpuUsage(before)
      const done = r.completed ?? r.achieved * seconds
      console.log(
        `${name} @${rate}/s: served ${r.achieved}/s p50 ${r.p50.toFixed(2)} p99 ${r.p99.toFixed(2)} errors ${r.errors} ` +
          `generator CPU ${((own.user + own.system) / 1000 / done).toFixed(3)} ms/req, ` +
          `server CPU ${r.cpuMsPerRequest.toFixed(3)} ms/req, load ${os.loadavg()[0]!.toFixed(2)}`
      )
    }
  }
  server.kill("SIGTERM")
}

if (process.env.LOADGEN_SERVER === "1") serve()
else main().catch((error) => {
  console.error(error)
  process.exit(1)
})
