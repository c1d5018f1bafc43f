/**
 * What a young-generation size does to the built service around a REST load: RSS and V8's new
 * space (committed) at ready, after an idle spell, after 8 s of each list page at 500/s (with the
 * collections of those 8 s from --trace-gc-nvp: scavenges, their pause sum and largest, and the
 * open-loop p99), and each few seconds of the quiet that follows (Health/MemoryReclaim.ts).
 * Run under the bench lock; REST_DB is a copy of ssv_rest_100k (bench/rest.ts).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REST_DB=ssv_x_copy \
 *     npx tsx bench/young-idle.ts "" "--max-semi-space-size=64" ...
 *   (each argument is one service process's node flags, "" for none; they run one after another)
 */
import { spawn } from "node:child_process"
import pg from "pg"
import { type Collection, parseGcLine } from "./gc-trace.js"
import { Inspector } from "./heap.js"
import { openLoop } from "./open-loop.js"
import { freePort, rssMb } from "./proc.js"
import { benchKey, serviceEnv, stop, waitReady } from "./rest-fixture.js"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const newSpaceMb = async (inspector: Inspector) => {
  const result = await inspector.call("Runtime.evaluate", {
    expression: "JSON.stringify(require('v8').getHeapSpaceStatistics().filter((s) => s.space_name === 'new_space')[0])",
    includeCommandLineAPI: true,
    returnByValue: true
  })
  const space = JSON.parse(result.result.value) as { space_size: number; space_used_size: number }
  return `${(space.space_size / 1048576).toFixed(0)}`
}

const main = async () => {
  const url = new URL(process.env.DATABASE_URL!)
  url.pathname = `/${process.env.REST_DB}`
  const db = new pg.Client({ connectionString: url.toString() })
  await db.connect()
  const key = await benchKey(db)
  const variants = process.argv.slice(2)
  for (const variant of variants.length > 0 ? variants : [""]) {
    const extra = variant.split(" ").filter((f) => f !== "")
    const port = await freePort()
    const inspectPort = await freePort()
    const child = spawn(process.execPath, [...extra, "--trace-gc-nvp", `--inspect=127.0.0.1:${inspectPort}`, "dist/main.js"], {
      env: serviceEnv(port, url.toString()),
      stdio: ["ignore", "pipe", "ignore"]
    })
    const collections: Array<Collection> = []
    let partial = ""
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n")
      partial = lines.pop()!
      for (const line of lines) {
        const collection = parseGcLine(line)
        if (collection !== undefined) collections.push(collection)
      }
    })
    await waitReady(port)
    const inspector = await Inspector.open(inspectPort)
    const line: Array<string> = []
    const read = async (label: string) => line.push(`${label} ${rssMb(child.pid!).toFixed(0)}/${await newSpaceMb(inspector)}`)
    await read("ready")
    await sleep(20_000)
    await read("idle20s")
    const headers = { authorization: `Bearer ${key}` }
    for (const p of ["/api/v1/call-logs?limit=50", "/api/v1/voice-sessions?limit=50"]) {
      const from = collections.length
      const result = await openLoop({ port, paths: [p], headers, rate: 500, seconds: 8, pid: child.pid! })
      const scavenges = collections.slice(from).filter((c) => c.kind === "s")
      const pauses = scavenges.map((c) => c.pause)
      await read(`${p.includes("call") ? "calls" : "sessions"}(p99 ${result.p99.toFixed(1)}, CPU ${result.cpuMsPerRequest.toFixed(2)}, ` +
        `${scavenges.length} scavenges ${pauses.reduce((a, b) => a + b, 0).toFixed(0)} ms max ${Math.max(0, ...pauses).toFixed(1)})`)
    }
    for (let s = 5; s <= 40; s += 5) {
      await sleep(5_000)
      await read(`+${s}s`)
    }
    inspector.close()
    console.log(`${variant === "" ? "(no flags)" : variant}: RSS MB/new space MB: ${line.join(", ")}`)
    await stop(child)
  }
  await db.end()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
